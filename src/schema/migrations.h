// The platform's database schema: one numbered list of migrations, applied at start by
// Store::Migrate. Append only: a released migration is never edited, a change is a new one.
#pragma once

#include <vector>

#include "store/store.h"

namespace neosl::schema {

const std::vector<store::Migration>& Migrations();

}  // namespace neosl::schema
