# Aggregation, scheduling and the signed records: pure logic, time passed in.
neosl_test(pricefeed_logic_test SOURCES aggregate_test.cpp schedule_test.cpp price_record_test.cpp
           DEPS neosl_pricefeed_logic neosl_test_support LABELS unit)
