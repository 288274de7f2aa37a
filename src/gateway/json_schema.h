// A small JSON Schema subset, written once per request and response body and used twice: to
// validate what callers send (INVALID_ARGUMENT naming the field) and to generate the OpenAPI
// document, so the two can never disagree.
//
//   auto body = Object({{"name", String().Length(1, 64), kRequired},
//                       {"roles", Array(String().OneOf({"owner", "viewer"})).MinItems(1)}});
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "core/status.h"

namespace neosl::gateway {

class Schema;
using SchemaPtr = std::shared_ptr<const Schema>;

enum Presence { kOptional, kRequired };

struct Property {
  std::string name;
  SchemaPtr schema;
  Presence presence = kOptional;
};

class Schema {
 public:
  enum class Type { kObject, kArray, kString, kInteger, kNumber, kBoolean };

  // Builders return a mutable copy; chain refinements, then it converts to a SchemaPtr.
  class Builder;

  Type type() const { return type_; }

  // OK if `value` conforms; otherwise INVALID_ARGUMENT whose message and FieldViolation
  // detail name the offending field by its path ("roles[1]", "limits.burst").
  Status Validate(const boost::json::value& value) const;

  // This schema as a JSON Schema (2020-12, as OpenAPI 3.1 uses) object.
  boost::json::value ToJsonSchema() const;
  // Whether an object schema names the property `name`.
  bool HasProperty(std::string_view name) const;

 private:
  friend class Builder;
  friend Builder Object(std::vector<Property>);
  friend Builder Array(SchemaPtr);
  friend SchemaPtr WithProperty(const SchemaPtr& object, Property property);
  Status ValidateAt(const boost::json::value& value, const std::string& path) const;

  Type type_ = Type::kObject;
  std::string description_;
  std::vector<Property> properties_;
  bool allow_additional_ = false;
  SchemaPtr items_;
  std::optional<int64_t> min_length_, max_length_;  // strings: characters (UTF-8 bytes)
  std::optional<int64_t> minimum_, maximum_;        // integers
  std::optional<int64_t> min_items_, max_items_;    // arrays
  bool unique_items_ = false;
  std::vector<std::string> enum_;
  std::string charset_;  // strings: allowed characters, described in OpenAPI as a pattern
  std::string pattern_;  // the regex shown in OpenAPI for charset_
  std::string format_;
  std::string example_;
};

class Schema::Builder {
 public:
  explicit Builder(Type type) : s_(std::make_shared<Schema>()) { s_->type_ = type; }

  Builder& Describe(std::string text) {
    s_->description_ = std::move(text);
    return *this;
  }
  Builder& Length(int64_t min, int64_t max) {
    s_->min_length_ = min;
    s_->max_length_ = max;
    return *this;
  }
  Builder& Range(int64_t min, int64_t max) {
    s_->minimum_ = min;
    s_->maximum_ = max;
    return *this;
  }
  Builder& MinItems(int64_t n) {
    s_->min_items_ = n;
    return *this;
  }
  Builder& MaxItems(int64_t n) {
    s_->max_items_ = n;
    return *this;
  }
  Builder& Unique() {
    s_->unique_items_ = true;
    return *this;
  }
  Builder& OneOf(std::vector<std::string> values) {
    s_->enum_ = std::move(values);
    return *this;
  }
  // Restricts a string to the given characters; `pattern` documents it in OpenAPI.
  Builder& Charset(std::string chars, std::string pattern) {
    s_->charset_ = std::move(chars);
    s_->pattern_ = std::move(pattern);
    return *this;
  }
  Builder& Format(std::string f) {
    s_->format_ = std::move(f);
    return *this;
  }
  Builder& Example(std::string e) {
    s_->example_ = std::move(e);
    return *this;
  }
  Builder& AllowAdditional() {
    s_->allow_additional_ = true;
    return *this;
  }

  operator SchemaPtr() const { return s_; }  // NOLINT(google-explicit-constructor)

 private:
  friend Builder Object(std::vector<Property>);
  friend Builder Array(SchemaPtr);
  std::shared_ptr<Schema> s_;
};

Schema::Builder Object(std::vector<Property> properties);
// A copy of the object schema `object` with `property` added (replacing one of the same name).
SchemaPtr WithProperty(const SchemaPtr& object, Property property);
Schema::Builder Array(SchemaPtr items);
Schema::Builder String();
Schema::Builder Integer();
Schema::Builder Number();
Schema::Builder Boolean();

// Parses a request body as JSON and validates it. An empty body is treated as `{}` so that a
// body with only optional fields may be omitted.
StatusOr<boost::json::value> ParseAndValidate(std::string_view body, const Schema& schema);

}  // namespace neosl::gateway
