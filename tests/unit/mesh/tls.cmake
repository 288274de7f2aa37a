# mesh tls tests: the CA, mTLS over real gRPC on loopback, the rotator, rotation under load.
neosl_test(mesh_tls_test
  SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/ca_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/tls_mtls_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/tls_rotator_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/tls_rotation_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/tls_test_support.cpp
  DEPS neosl_mesh_tls neosl_service_proto neosl_test_support gRPC::grpc++
  LABELS unit)
