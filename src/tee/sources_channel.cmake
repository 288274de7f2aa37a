# channel: the ECALL boundary (proto/enclave.proto frames over a socketpair), the host supervisor
# and the enclave's server loop.
list(APPEND NEOSL_TEE_SOURCES channel.cpp host.cpp enclave_server.cpp)
list(APPEND NEOSL_TEE_DEPS neosl_enclave_proto)
