# sealing: enclave measurement and sigstructs, sealing, the platform secret, enclave keys.
list(APPEND NEOSL_TEE_SOURCES measurement.cpp sealing.cpp keys.cpp)
