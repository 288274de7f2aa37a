# Neo N3 JSON-RPC client, typed results and the chain event subscribers (WebSocket and polling).
list(APPEND NEOSL_NEO_SOURCES rpc_types.cpp rpc_errors.cpp rpc_client.cpp chain_cache.cpp polling_subscriber.cpp ws_subscriber.cpp tls_client.cpp)
# The client speaks HTTPS/WSS through OpenSSL; neosl_neo is defined after this file is included,
# so the link is added once the directory has been processed.
cmake_language(DEFER CALL target_link_libraries neosl_neo PUBLIC OpenSSL::SSL Threads::Threads)
