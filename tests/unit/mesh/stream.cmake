# Server-streaming calls: MeshClient::Stream, Pipeline::ServerStream and the echo service's
# EchoStream, in-process and over mTLS.
neosl_test(mesh_stream_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/stream_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/tls_test_support.cpp
  DEPS neosl_service_echo neosl_mesh neosl_tee neosl_crypto neosl_test_support
  LABELS unit
  TIMEOUT 120)
