# vault tests: secrets at rest in the enclave (SecretVault) and the provider the JS runtime reads.
neosl_test(tee_vault_test
  SOURCES secret_vault_test.cpp
  DEPS neosl_tee neosl_crypto
  LABELS unit)
