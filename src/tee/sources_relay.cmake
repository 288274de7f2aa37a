# relay: outbound HTTP(S) from the enclave, TLS inside, bytes relayed by the host.
list(APPEND NEOSL_TEE_SOURCES http1.cpp relay_stream.cpp tls_relay.cpp socket_relay.cpp)
