list(APPEND NEOSL_NEO_SOURCES tx_sender.cpp)
