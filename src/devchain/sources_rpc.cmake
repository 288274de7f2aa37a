# JSON-RPC and WebSocket server.
list(APPEND NEOSL_DEVCHAIN_SOURCES rpc_server.cpp rpc_envelope.cpp rpc_methods.cpp rpc_ws.cpp)
