# The pure rules of the chain and price sources (sources.h): block heights, notification
# arguments in a filter's type, event filters, context JSON, price crossings and changes.
neosl_test(automation_sources_test SOURCES sources_test.cpp
           DEPS neosl_automation_sources neosl_neo neosl_core Boost::json LABELS unit)
