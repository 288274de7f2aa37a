# ApplicationEngine and the contracts.
list(APPEND NEOSL_DEVCHAIN_SOURCES app_engine.cpp app_engine_items.cpp native.cpp native_tokens.cpp native_misc.cpp
     native_sample.cpp native_pricefeed.cpp)
