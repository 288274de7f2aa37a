# Secrets access control: grants, resolution for an invocation, the enclave's provider — the
# secrets service on an in-process mesh around the real enclave.
neosl_test(secrets_access_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/secrets_access_test.cpp
  DEPS neosl_service_secrets neosl_mesh neosl_schema neosl_store neosl_tee neosl_test_store Boost::json
  LABELS integration
  TIMEOUT 180
  POSTGRES)
add_dependencies(secrets_access_test neosl)
