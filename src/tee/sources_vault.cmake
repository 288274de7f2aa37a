# vault: secrets at rest under the enclave's secrets key, and the provider the JS runtime reads.
list(APPEND NEOSL_TEE_SOURCES secret_vault.cpp)
