# SamplePriceFeed, checked against the records the price feed service signs.
neosl_test(devchain_pricefeed_test SOURCES native_pricefeed_test.cpp DEPS neosl_devchain neosl_pricefeed_logic
           neosl_crypto LABELS unit)
