// The prelude run in every invocation's fresh global before the function's module: web-style
// wrappers around the natives of js_api.cpp. Compiled once per Engine; its completion value is a
// function that takes the natives object (which never reaches the global) and returns the
// invocation's `context`.
#include "runtime/js_support.h"

namespace neosl::runtime::js {

std::string_view PreludeSource() {
  static constexpr std::string_view kSource = R"js((function (n) {
  'use strict';
  const hide = (o, k, v) => Object.defineProperty(o, k, {value: v, writable: true, configurable: true, enumerable: false});
  const show = (x) => {
    if (typeof x === 'string') return x;
    if (x instanceof Error) return x.stack ? String(x) + '\n' + x.stack.trimEnd() : String(x);
    try {
      const j = JSON.stringify(x);
      return j === undefined ? String(x) : j;
    } catch (e) {
      return String(x);
    }
  };
  const line = (level) => (...a) => { n.log(level, a.map(show).join(' ')); };
  const console = Object.freeze({
    log: line('log'), info: line('info'), warn: line('warn'), error: line('error'), debug: line('log'),
  });

  const bytes = (data, what) => {
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    throw new TypeError(what + ': expected an ArrayBuffer or a typed array');
  };

  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(input = '') { return n.utf8Encode(String(input)); }
  }
  class TextDecoder {
    #fatal;
    constructor(label = 'utf-8', options = {}) {
      const l = String(label).trim().toLowerCase();
      if (l !== 'utf-8' && l !== 'utf8' && l !== 'unicode-1-1-utf-8') {
        throw new RangeError('TextDecoder: only utf-8 is supported');
      }
      this.#fatal = Boolean(options && options.fatal);
    }
    get encoding() { return 'utf-8'; }
    get fatal() { return this.#fatal; }
    decode(input) {
      if (input === undefined) return '';
      return n.utf8Decode(bytes(input, 'TextDecoder.decode'), this.#fatal);
    }
  }

  class Headers {
    #m = new Map();
    constructor(init) {
      if (init === undefined || init === null) return;
      if (init instanceof Headers) init = [...init];
      if (Array.isArray(init)) {
        for (const [k, v] of init) this.append(k, v);
      } else if (typeof init === 'object') {
        for (const k of Object.keys(init)) this.append(k, init[k]);
      } else {
        throw new TypeError('Headers: expected an object or an array of pairs');
      }
    }
    append(k, v) {
      k = String(k).toLowerCase();
      v = String(v);
      const c = this.#m.get(k);
      this.#m.set(k, c === undefined ? v : c + ', ' + v);
    }
    set(k, v) { this.#m.set(String(k).toLowerCase(), String(v)); }
    get(k) { const v = this.#m.get(String(k).toLowerCase()); return v === undefined ? null : v; }
    has(k) { return this.#m.has(String(k).toLowerCase()); }
    delete(k) { this.#m.delete(String(k).toLowerCase()); }
    forEach(cb, self) { for (const [k, v] of this.#m) cb.call(self, v, k, this); }
    entries() { return this.#m.entries(); }
    keys() { return this.#m.keys(); }
    values() { return this.#m.values(); }
    [Symbol.iterator]() { return this.#m.entries(); }
  }

  class Response {
    #body;
    #used = false;
    constructor(r) {
      this.status = r.status;
      this.statusText = r.statusText;
      this.ok = r.status >= 200 && r.status < 300;
      this.headers = new Headers(r.headers);
      this.url = r.url;
      this.redirected = r.redirected;
      this.#body = r.body;
    }
    get bodyUsed() { return this.#used; }
    #take() {
      if (this.#used) throw new TypeError('Response: the body was already read');
      this.#used = true;
      return this.#body;
    }
    async arrayBuffer() { return this.#take(); }
    async text() { return n.utf8Decode(this.#take(), false); }
    async json() { return JSON.parse(await this.text()); }
  }

  async function fetch(input, init = {}) {
    init = init || {};
    const url = String(input && input.url !== undefined ? input.url : input);
    const method = String(init.method || 'GET').toUpperCase();
    const headers = new Headers(init.headers);
    let body = init.body;
    if (body === undefined || body === null) {
      body = null;
    } else if (typeof body === 'string') {
      body = n.utf8Encode(body);
    } else if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
      body = bytes(body, 'fetch');
    } else if (typeof body === 'object') {
      body = n.utf8Encode(JSON.stringify(body));
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    } else {
      body = n.utf8Encode(String(body));
    }
    return new Response(n.fetch(method, url, [...headers], body, String(init.redirect || 'follow'),
                                Number(init.timeout || 0)));
  }

  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  const crypto = Object.freeze({
    getRandomValues: (view) => n.getRandomValues(view),
    randomUUID() {
      const b = n.getRandomValues(new Uint8Array(16));
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = hex(b);
      return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
    },
    subtle: Object.freeze({
      async digest(algorithm, data) {
        const name = typeof algorithm === 'string' ? algorithm : algorithm && algorithm.name;
        return n.digest(String(name), bytes(data, 'crypto.subtle.digest'));
      },
    }),
  });

  const secrets = Object.freeze({ get: (name) => n.secret(String(name)) });
  const neo = Object.freeze({
    async invokeRead(contract, method, args = []) {
      return n.neoInvokeRead(String(contract), String(method), JSON.stringify(args));
    },
  });

  hide(globalThis, 'console', console);
  hide(globalThis, 'TextEncoder', TextEncoder);
  hide(globalThis, 'TextDecoder', TextDecoder);
  hide(globalThis, 'Headers', Headers);
  hide(globalThis, 'Response', Response);
  hide(globalThis, 'fetch', fetch);
  hide(globalThis, 'crypto', crypto);
  return Object.freeze({ secrets, fetch, neo, crypto, console, TextEncoder, TextDecoder });
}))js";
  return kSource;
}

}  // namespace neosl::runtime::js
