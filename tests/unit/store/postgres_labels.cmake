# Run by ctest after the discovered tests of postgres_store_test are defined (see CMakeLists.txt).
foreach(test IN LISTS postgres_store_test_TESTS)
  set_tests_properties("${test}" PROPERTIES LABELS "unit;postgres")
endforeach()
