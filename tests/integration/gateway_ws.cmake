# GET /v1/ws: the gateway's WebSocket endpoint end to end in one process (HTTP server, API-key
# auth over SQLite, WsHub, the echo_stream channel over a mesh stream of the echo service).
neosl_test(gateway_ws_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/gateway_ws_test.cpp
  DEPS neosl_gateway neosl_service_echo neosl_mesh neosl_schema neosl_store neosl_test_store Boost::json
  LABELS integration
  TIMEOUT 180
  POSTGRES)
