# channel tests: the frame channel in process, and the host supervising a real child process
# (tee_fake_enclave: a minimal enclave that answers pings and test commands).
add_executable(tee_fake_enclave ${CMAKE_CURRENT_SOURCE_DIR}/fake_enclave.cpp)
target_link_libraries(tee_fake_enclave PRIVATE neosl_tee)
neosl_apply_flags(tee_fake_enclave)

neosl_test(tee_channel_test
  SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/channel_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/host_test.cpp
  DEPS neosl_tee
  LABELS unit)
target_compile_definitions(tee_channel_test PRIVATE NEOSL_FAKE_ENCLAVE="$<TARGET_FILE:tee_fake_enclave>")
add_dependencies(tee_channel_test tee_fake_enclave)
