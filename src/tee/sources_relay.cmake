# relay: outbound HTTPS from the enclave, TLS inside, bytes relayed by the host.
list(APPEND NEOSL_TEE_SOURCES tls_relay.cpp socket_relay.cpp)
