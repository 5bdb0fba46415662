// render.mjs renders VTL templates with velocityjs, the reference JavaScript
// implementation of Velocity, for the differential tests of compile/vtl.
//
// stdin:  a JSON list of {"template": "...", "context": {...}, "input": {"body": "...", "params": {...}}}
// stdout: a JSON list, one {"output": "..."} or {"error": "...", "phase": "parse"|"render"} per case.
//
// velocityjs runs in its silent mode: API Gateway renders a null or missing
// reference as nothing, not as its source text. Templates call Java methods
// (String.length(), List.add(), Map.keySet()...) that JavaScript values do not
// have; javaMethods below gives velocityjs those methods with Java's semantics,
// and Input/Util are $input and $util for the same plain data the Go test uses.
import { parse, Compile } from 'velocityjs';

const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

class Entry {
  constructor(key, value) { this.key = key; this.value = value; }
  getKey() { return this.key; }
  getValue() { return this.value; }
  toString() { return `${this.key}=${javaString(this.value)}`; }
}

// javaString is String.valueOf for values inside collections.
function javaString(v) {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return '[' + v.map(javaString).join(', ') + ']';
  if (isMap(v)) return '{' + Object.keys(v).map((k) => `${k}=${javaString(v[k])}`).join(', ') + '}';
  return String(v);
}

function javaEquals(a, b) {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => javaEquals(x, b[i]));
  }
  if (isMap(a)) {
    if (!isMap(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in b && javaEquals(a[k], b[k]));
  }
  return false;
}

const isInt = (n) => typeof n === 'number' && Number.isInteger(n);
const fail = (msg) => { throw new Error(msg); };

// Java's String.split(regex, limit).
function javaSplit(s, pattern, limit = 0) {
  const re = new RegExp(pattern, 'gu');
  const out = [];
  let index = 0;
  let m;
  while ((m = re.exec(s)) !== null) {
    const start = m.index;
    const end = start + m[0].length;
    if (m[0].length === 0) re.lastIndex++;
    if (limit > 0 && out.length === limit - 1) break;
    if (end === 0) continue;
    if (start === end && start === s.length) continue;
    out.push(s.slice(index, start));
    index = end;
  }
  if (index === 0 && out.length === 0) return [s];
  out.push(s.slice(index));
  if (limit === 0) while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

// Java's replaceAll/replaceFirst replacement: $n groups, \ quotes.
function javaReplace(s, pattern, repl, first) {
  const re = new RegExp(pattern, first ? 'u' : 'gu');
  return s.replace(re, (...m) => {
    const groups = m.slice(0, -2);
    let out = '';
    for (let i = 0; i < repl.length; i++) {
      const c = repl[i];
      if (c === '\\') { i++; out += repl[i]; continue; }
      if (c === '$') {
        i++;
        let g = Number(repl[i]);
        while (i + 1 < repl.length && /[0-9]/.test(repl[i + 1]) && g * 10 + Number(repl[i + 1]) < groups.length) {
          g = g * 10 + Number(repl[++i]);
        }
        out += groups[g] ?? '';
        continue;
      }
      out += c;
    }
    return out;
  });
}

const stringMethods = {
  length: (s, a) => a.length === 0 ? s.length : undefined,
  isEmpty: (s, a) => a.length === 0 ? s.length === 0 : undefined,
  toString: (s, a) => a.length === 0 ? s : undefined,
  trim: (s) => s.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, ''),
  toLowerCase: (s) => s.toLowerCase(),
  toUpperCase: (s) => s.toUpperCase(),
  contains: (s, [a]) => typeof a === 'string' ? s.includes(a) : undefined,
  startsWith: (s, [a, off]) => typeof a !== 'string' ? undefined : off === undefined ? s.startsWith(a) : (off < 0 || off > s.length ? false : s.startsWith(a, off)),
  endsWith: (s, [a]) => typeof a === 'string' ? s.endsWith(a) : undefined,
  equals: (s, [a]) => a === s,
  equalsIgnoreCase: (s, [a]) => typeof a === 'string' && a.toLowerCase() === s.toLowerCase(),
  indexOf: (s, [a, from]) => typeof a === 'string' ? s.indexOf(a, from ?? 0) : undefined,
  lastIndexOf: (s, [a, from]) => typeof a !== 'string' ? undefined : from === undefined ? s.lastIndexOf(a) : (from < 0 ? -1 : s.lastIndexOf(a, from)),
  substring: (s, [b, e]) => {
    if (!isInt(b)) return undefined;
    const end = e === undefined ? s.length : e;
    if (b < 0 || end > s.length || b > end) fail(`substring(${b}, ${end}): index out of range`);
    return s.substring(b, end);
  },
  charAt: (s, [i]) => {
    if (!isInt(i)) return undefined;
    if (i < 0 || i >= s.length) fail(`charAt(${i}): index out of range`);
    return s.charAt(i);
  },
  concat: (s, [a]) => typeof a === 'string' ? s + a : undefined,
  replace: (s, [a, b]) => typeof a === 'string' && typeof b === 'string' ? s.replaceAll(a, () => b) : undefined,
  replaceAll: (s, [p, r]) => javaReplace(s, p, r, false),
  replaceFirst: (s, [p, r]) => javaReplace(s, p, r, true),
  matches: (s, [p]) => new RegExp(`^(?:${p})$`, 'u').test(s),
  split: (s, [p, limit]) => javaSplit(s, p, limit ?? 0),
  compareTo: (s, [a]) => {
    for (let i = 0; i < Math.min(s.length, a.length); i++) {
      if (s.charCodeAt(i) !== a.charCodeAt(i)) return s.charCodeAt(i) - a.charCodeAt(i);
    }
    return s.length - a.length;
  },
};

const listMethods = {
  size: (l) => l.length,
  isEmpty: (l) => l.length === 0,
  get: (l, [i]) => {
    if (!isInt(i)) return undefined;
    if (i < 0 || i >= l.length) fail(`get(${i}): index out of range`);
    return l[i];
  },
  contains: (l, [x]) => l.some((e) => javaEquals(e, x)),
  indexOf: (l, [x]) => l.findIndex((e) => javaEquals(e, x)),
  lastIndexOf: (l, [x]) => { for (let i = l.length - 1; i >= 0; i--) if (javaEquals(l[i], x)) return i; return -1; },
  add: (l, a) => {
    if (a.length === 1) { l.push(a[0]); return true; }
    l.splice(a[0], 0, a[1]);
    return undefined;
  },
  set: (l, [i, x]) => { const old = l[i]; l[i] = x; return old; },
  remove: (l, [x]) => {
    if (isInt(x)) return l.splice(x, 1)[0];
    const i = l.findIndex((e) => javaEquals(e, x));
    if (i < 0) return false;
    l.splice(i, 1);
    return true;
  },
  addAll: (l, [more]) => { l.push(...more); return more.length > 0; },
  clear: (l) => { l.length = 0; return undefined; },
  subList: (l, [a, b]) => l.slice(a, b),
  toString: (l) => javaString(l),
  equals: (l, [x]) => javaEquals(l, x),
};

const mapMethods = {
  get: (m, [k]) => (k === null || k === undefined) ? undefined : m[String(k)],
  getOrDefault: (m, [k, d]) => String(k) in m ? m[String(k)] : d,
  put: (m, [k, v]) => { const old = m[String(k)]; m[String(k)] = v; return old; },
  containsKey: (m, [k]) => Object.prototype.hasOwnProperty.call(m, String(k)),
  containsValue: (m, [v]) => Object.values(m).some((e) => javaEquals(e, v)),
  keySet: (m) => Object.keys(m),
  values: (m) => Object.values(m),
  entrySet: (m) => Object.keys(m).map((k) => new Entry(k, m[k])),
  size: (m) => Object.keys(m).length,
  isEmpty: (m) => Object.keys(m).length === 0,
  remove: (m, [k]) => { const old = m[String(k)]; delete m[String(k)]; return old; },
  putAll: (m, [o]) => { Object.assign(m, o); return undefined; },
  toString: (m) => javaString(m),
  equals: (m, [x]) => javaEquals(m, x),
};

const table = (ctx) => {
  if (typeof ctx === 'string') return stringMethods;
  if (Array.isArray(ctx)) return listMethods;
  if (isMap(ctx)) return mapMethods;
  return null;
};

const javaMethods = [{
  uid: 'wsgw: java methods',
  match: ({ context }) => table(context) !== null,
  resolve: ({ context, property, params }) => {
    const f = table(context)[property];
    if (!f) return undefined;
    const v = f(context, params);
    return v === null ? undefined : v;
  },
}];

// JSON as API Gateway's JSON library writes it: compact, \uXXXX in upper case
// for control characters, U+007F-U+009F and U+2000-U+20FF.
function toJSON(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') {
    let out = '"';
    for (const ch of v) {
      const c = ch.codePointAt(0);
      const short = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' }[ch];
      if (short) out += short;
      else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x2000 && c <= 0x20ff)) out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
      else out += ch;
    }
    return out + '"';
  }
  if (Array.isArray(v)) return '[' + v.map(toJSON).join(',') + ']';
  if (typeof v === 'object') return '{' + Object.keys(v).map((k) => toJSON(k) + ':' + toJSON(v[k])).join(',') + '}';
  return String(v);
}

// The JSONPath subset the Go engine supports: $, .name, ['name'], [n], [*], .*.
function jsonPath(doc, path) {
  let p = path.trim();
  if (!p.startsWith('$')) p = '$.' + p;
  const segs = [];
  let definite = true;
  const re = /\.\*|\[\*\]|\.([^.[]+)|\['([^']*)'\]|\["([^"]*)"\]|\[(-?\d+)\]/y;
  re.lastIndex = 1;
  while (re.lastIndex < p.length) {
    const m = re.exec(p);
    if (!m) throw new Error(`JSONPath ${path}: unsupported`);
    if (m[0] === '.*' || m[0] === '[*]') { segs.push({ wild: true }); definite = false; }
    else if (m[4] !== undefined) segs.push({ index: Number(m[4]) });
    else segs.push({ name: m[1] ?? m[2] ?? m[3] });
  }
  let cur = [doc];
  for (const s of segs) {
    const next = [];
    for (const v of cur) {
      if (s.wild) {
        if (Array.isArray(v)) next.push(...v);
        else if (isMap(v)) next.push(...Object.values(v));
      } else if (s.index !== undefined) {
        if (Array.isArray(v)) {
          const i = s.index < 0 ? v.length + s.index : s.index;
          if (i >= 0 && i < v.length) next.push(v[i]);
        }
      } else if (isMap(v) && Object.prototype.hasOwnProperty.call(v, s.name)) {
        next.push(v[s.name]);
      }
    }
    cur = next;
  }
  if (definite) return cur.length ? cur[0] : null;
  return cur;
}

const sortKeys = (o) => Object.fromEntries(Object.keys(o ?? {}).sort().map((k) => [k, o[k]]));

class Input {
  constructor(body, params) {
    this.raw = body;
    this.p = { path: sortKeys(params?.path), querystring: sortKeys(params?.querystring), header: sortKeys(params?.header) };
    this.doc = undefined;
  }
  get body() { return this.raw === '' ? '{}' : this.raw; }
  document() {
    if (this.doc === undefined) this.doc = JSON.parse(this.body);
    return this.doc;
  }
  json(p = '$') { return toJSON(jsonPath(this.document(), p)); }
  path(p = '$') { return jsonPath(this.document(), p); }
  params(name) {
    if (name === undefined) return this.p;
    for (const k of ['path', 'querystring', 'header']) {
      if (Object.prototype.hasOwnProperty.call(this.p[k], name)) return this.p[k][name];
    }
    for (const h of Object.keys(this.p.header)) if (h.toLowerCase() === String(name).toLowerCase()) return this.p.header[h];
    return '';
  }
}

const hex = (n) => n.toString(16).toUpperCase();

class Util {
  escapeJavaScript(s) {
    if (s === null || s === undefined) return undefined;
    s = String(s);
    let out = '';
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const ch = s[i];
      if (c > 0xfff) out += '\\u' + hex(c);
      else if (c > 0xff) out += '\\u0' + hex(c);
      else if (c > 0x7f) out += '\\u00' + hex(c);
      else if (c < 32) {
        const short = { 8: '\\b', 10: '\\n', 9: '\\t', 12: '\\f', 13: '\\r' }[c];
        out += short ?? (c > 0xf ? '\\u00' + hex(c) : '\\u000' + hex(c));
      } else out += { "'": "\\'", '"': '\\"', '\\': '\\\\', '/': '\\/' }[ch] ?? ch;
    }
    return out;
  }
  parseJson(s) { return JSON.parse(String(s)); }
  urlEncode(s) {
    let out = '';
    for (const b of new TextEncoder().encode(String(s))) {
      const ch = String.fromCharCode(b);
      if (/[A-Za-z0-9.\-*_]/.test(ch)) out += ch;
      else if (ch === ' ') out += '+';
      else out += '%' + hex(b).padStart(2, '0');
    }
    return out;
  }
  urlDecode(s) {
    const bytes = [];
    s = String(s);
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '+') bytes.push(32);
      else if (s[i] === '%') { bytes.push(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
      else bytes.push(...new TextEncoder().encode(s[i]));
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }
  base64Encode(s) { return Buffer.from(String(s), 'utf8').toString('base64'); }
  base64Decode(s) { return Buffer.from(String(s), 'base64').toString('utf8'); }
}

const firstLine = (e) => String(e && e.message ? e.message.split('\n')[0] : e);

// render returns {output} or {error, phase}: whether velocityjs failed to
// parse the template or failed while rendering it.
function render(c) {
  let ast;
  try {
    ast = parse(c.template);
  } catch (e) {
    return { error: firstLine(e), phase: 'parse' };
  }
  try {
    const context = structuredClone(c.context ?? {});
    context.util = new Util();
    if (c.input) context.input = new Input(c.input.body ?? '', c.input.params);
    const compiled = new Compile(ast, { customMethodHandlers: javaMethods });
    return { output: compiled.render(context, undefined, true) };
  } catch (e) {
    return { error: firstLine(e), phase: 'render' };
  }
}

let data = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { data += d; });
process.stdin.on('end', () => {
  const cases = JSON.parse(data);
  const out = cases.map(render);
  process.stdout.write(JSON.stringify(out));
});
