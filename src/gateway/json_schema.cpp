#include "gateway/json_schema.h"

#include <set>

#include <boost/json.hpp>

namespace neosl::gateway {
namespace json = boost::json;
namespace {

Status Violation(const std::string& path, const std::string& description) {
  std::string field = path.empty() ? "(body)" : path;
  return InvalidArgumentError("field '" + field + "': " + description)
      .WithDetail(ErrorDetail{"FieldViolation", {}}.Add("field", field).Add("description", description));
}

std::string_view TypeName(Schema::Type t) {
  switch (t) {
    case Schema::Type::kObject: return "object";
    case Schema::Type::kArray: return "array";
    case Schema::Type::kString: return "string";
    case Schema::Type::kInteger: return "integer";
    case Schema::Type::kNumber: return "number";
    case Schema::Type::kBoolean: return "boolean";
  }
  return "?";
}

std::string_view JsonKindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "a boolean";
    case json::kind::int64:
    case json::kind::uint64: return "an integer";
    case json::kind::double_: return "a number";
    case json::kind::string: return "a string";
    case json::kind::array: return "an array";
    case json::kind::object: return "an object";
  }
  return "?";
}

// Number of code points, so that length limits mean characters for non-ASCII names.
int64_t Utf8Length(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

}  // namespace

Schema::Builder Object(std::vector<Property> properties) {
  Schema::Builder b(Schema::Type::kObject);
  b.s_->properties_ = std::move(properties);
  return b;
}
SchemaPtr WithProperty(const SchemaPtr& object, Property property) {
  auto copy = std::make_shared<Schema>(*object);
  std::erase_if(copy->properties_, [&](const Property& p) { return p.name == property.name; });
  copy->properties_.push_back(std::move(property));
  return copy;
}

bool Schema::HasProperty(std::string_view name) const {
  for (const Property& p : properties_) {
    if (p.name == name) return true;
  }
  return false;
}

Schema::Builder Array(SchemaPtr items) {
  Schema::Builder b(Schema::Type::kArray);
  b.s_->items_ = std::move(items);
  return b;
}
Schema::Builder String() {
  return Schema::Builder(Schema::Type::kString);
}
Schema::Builder Integer() {
  return Schema::Builder(Schema::Type::kInteger);
}
Schema::Builder Number() {
  return Schema::Builder(Schema::Type::kNumber);
}
Schema::Builder Boolean() {
  return Schema::Builder(Schema::Type::kBoolean);
}

Status Schema::Validate(const json::value& value) const {
  return ValidateAt(value, "");
}

Status Schema::ValidateAt(const json::value& v, const std::string& path) const {
  auto wrong_type = [&] {
    return Violation(path, "expected " + std::string(TypeName(type_)) + ", got " + std::string(JsonKindName(v)));
  };
  switch (type_) {
    case Type::kObject: {
      const json::object* o = v.if_object();
      if (!o) return wrong_type();
      for (const auto& kv : *o) {
        std::string key(kv.key());
        const Property* prop = nullptr;
        for (const auto& p : properties_) {
          if (p.name == key) prop = &p;
        }
        std::string child = path.empty() ? key : path + "." + key;
        if (!prop) {
          if (allow_additional_) continue;
          return Violation(child, "unknown field");
        }
        RETURN_IF_ERROR(prop->schema->ValidateAt(kv.value(), child));
      }
      for (const auto& p : properties_) {
        if (p.presence == kRequired && !o->contains(p.name)) {
          return Violation(path.empty() ? p.name : path + "." + p.name, "required field is missing");
        }
      }
      return Status();
    }
    case Type::kArray: {
      const json::array* a = v.if_array();
      if (!a) return wrong_type();
      if (min_items_ && int64_t(a->size()) < *min_items_) {
        return Violation(path, "must have at least " + std::to_string(*min_items_) + " item(s)");
      }
      if (max_items_ && int64_t(a->size()) > *max_items_) {
        return Violation(path, "must have at most " + std::to_string(*max_items_) + " items");
      }
      std::set<std::string> seen;
      for (size_t i = 0; i < a->size(); ++i) {
        std::string child = path + "[" + std::to_string(i) + "]";
        RETURN_IF_ERROR(items_->ValidateAt((*a)[i], child));
        if (unique_items_ && !seen.insert(json::serialize((*a)[i])).second) {
          return Violation(child, "duplicate item");
        }
      }
      return Status();
    }
    case Type::kString: {
      const json::string* s = v.if_string();
      if (!s) return wrong_type();
      int64_t len = Utf8Length(*s);
      if (min_length_ && len < *min_length_) {
        return Violation(path, "must be at least " + std::to_string(*min_length_) + " character(s)");
      }
      if (max_length_ && len > *max_length_) {
        return Violation(path, "must be at most " + std::to_string(*max_length_) + " characters");
      }
      if (!enum_.empty()) {
        bool found = false;
        for (const auto& e : enum_) found = found || e == std::string_view(*s);
        if (!found) return Violation(path, "must be one of " + Join(enum_));
      }
      if (!charset_.empty()) {
        for (char c : *s) {
          if (charset_.find(c) == std::string::npos) {
            return Violation(path, "must match " + pattern_);
          }
        }
      }
      return Status();
    }
    case Type::kInteger: {
      int64_t n;
      if (v.is_int64()) {
        n = v.get_int64();
      } else if (v.is_uint64() && v.get_uint64() <= uint64_t(INT64_MAX)) {
        n = int64_t(v.get_uint64());
      } else {
        return wrong_type();
      }
      if (minimum_ && n < *minimum_) return Violation(path, "must be at least " + std::to_string(*minimum_));
      if (maximum_ && n > *maximum_) return Violation(path, "must be at most " + std::to_string(*maximum_));
      return Status();
    }
    case Type::kNumber:
      if (!v.is_number()) return wrong_type();
      return Status();
    case Type::kBoolean:
      if (!v.is_bool()) return wrong_type();
      return Status();
  }
  return Status();
}

json::value Schema::ToJsonSchema() const {
  json::object o;
  o["type"] = TypeName(type_);
  if (!description_.empty()) o["description"] = description_;
  switch (type_) {
    case Type::kObject: {
      json::object props;
      json::array required;
      for (const auto& p : properties_) {
        props[p.name] = p.schema->ToJsonSchema();
        if (p.presence == kRequired) required.emplace_back(p.name);
      }
      o["properties"] = std::move(props);
      if (!required.empty()) o["required"] = std::move(required);
      o["additionalProperties"] = allow_additional_;
      break;
    }
    case Type::kArray:
      o["items"] = items_->ToJsonSchema();
      if (min_items_) o["minItems"] = *min_items_;
      if (max_items_) o["maxItems"] = *max_items_;
      if (unique_items_) o["uniqueItems"] = true;
      break;
    case Type::kString:
      if (min_length_) o["minLength"] = *min_length_;
      if (max_length_) o["maxLength"] = *max_length_;
      if (!enum_.empty()) {
        json::array e;
        for (const auto& s : enum_) e.emplace_back(s);
        o["enum"] = std::move(e);
      }
      if (!pattern_.empty()) o["pattern"] = pattern_;
      if (!format_.empty()) o["format"] = format_;
      if (!example_.empty()) o["examples"] = json::array{json::value(example_)};
      break;
    case Type::kInteger:
      if (minimum_) o["minimum"] = *minimum_;
      if (maximum_) o["maximum"] = *maximum_;
      if (!format_.empty()) o["format"] = format_;
      break;
    case Type::kNumber:
    case Type::kBoolean: break;
  }
  return o;
}

StatusOr<json::value> ParseAndValidate(std::string_view body, const Schema& schema) {
  json::value v;
  bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (blank) {
    v = json::object();
  } else {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 32;
    v = json::parse(body, ec, {}, opts);
    if (ec) {
      return InvalidArgumentError("request body is not valid JSON: " + ec.message())
          .WithDetail(ErrorDetail{"FieldViolation", {}}.Add("field", "(body)").Add("description", ec.message()));
    }
  }
  RETURN_IF_ERROR(schema.Validate(v));
  return v;
}

}  // namespace neosl::gateway
