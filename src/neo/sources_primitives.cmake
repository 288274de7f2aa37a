# N3 payloads: witnesses, signers and witness rules, attributes, transactions, blocks, and their
# RPC JSON.
list(APPEND NEOSL_NEO_SOURCES witness.cpp witness_rule.cpp signer.cpp tx_attribute.cpp transaction.cpp block.cpp
     payload_json.cpp)
