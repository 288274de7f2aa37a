# The framework: pipeline, client and echo service, in-process, over loopback and over mTLS.
neosl_test(mesh_framework_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/framework_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/tls_test_support.cpp
  DEPS neosl_service_echo neosl_mesh neosl_tee neosl_crypto neosl_test_support
  LABELS unit
  TIMEOUT 120)
