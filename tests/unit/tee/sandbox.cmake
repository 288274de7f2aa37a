# sandbox tests: each hardening point of the sim enclave in a forked child, and locked memory.
neosl_test(tee_sandbox_test
  SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/sandbox_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/locked_memory_test.cpp
  DEPS neosl_tee neosl_crypto neosl_core PkgConfig::SECCOMP OpenSSL::Crypto
  LABELS unit)
