/* JSON frames -> bytes for proto-tool encode and the vector tests; validates like
 * src/message-encode.ts and src/frame.ts so that both tools accept the same lines. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_encode.h"

int je_bad(enc *e, const char *path, const char *what) {
  snprintf(e->err, e->errcap, "%s: %s", path, what);
  return -1;
}

int je_safe_int(const json_doc *d, int tok, int64_t *out) {
  double x;
  if (!json_number(d, tok, &x)) return 0;
  if (!isfinite(x) || x != floor(x) || fabs(x) > 9007199254740991.0) return 0;
  *out = (int64_t)x;
  return 1;
}

/* Unescapes a string token into the arena; 1 ok, 0 not a string; *lone for bad surrogates. */
int je_str(enc *e, int tok, iotp_str *out, int *lone) {
  long n;
  *lone = 0;
  if (tok < 0 || e->d->t[tok].type != J_STR) return 0;
  n = json_string(e->d, tok, e->arena + e->used, e->cap - e->used, lone);
  if (n < 0) return 0;
  out->ptr = e->arena + e->used;
  out->len = (size_t)n;
  e->used += (size_t)n;
  return 1;
}


/* One scalar field: returns 1 present, 0 absent, -1 invalid. */
int je_field(enc *e, int obj, const char *name, const char *path, int required, int kind, int64_t min,
                 int64_t max, int64_t *num, iotp_str *text) {
  char p[96];
  int tok = json_get(e->d, obj, name);
  snprintf(p, sizeof p, "%s.%s", path, name);
  if (tok < 0) return required ? je_bad(e, p, "missing") : 0;
  if (kind == F_U || kind == F_I) {
    if (!je_safe_int(e->d, tok, num) || (kind == F_U && *num < 0)) {
      return je_bad(e, p, kind == F_U ? "expected an unsigned integer" : "expected an integer");
    }
    if (*num < min || *num > max) return je_bad(e, p, "out of range");
    return 1;
  }
  {
    int lone = 0;
    if (!je_str(e, tok, text, &lone)) return je_bad(e, p, "expected text");
    if (lone || !iotp_text_ok((int)min, (const uint8_t *)text->ptr, text->len)) return je_bad(e, p, "invalid text");
  }
  return 1;
}

#define U(name, req, lo, hi, dst, has)                                        \
  do {                                                                        \
    int64_t n_ = 0;                                                           \
    int r_ = je_field(e, body, name, "body", req, F_U, lo, hi, &n_, 0);         \
    if (r_ < 0) return -1;                                                    \
    if (r_) dst = n_;                                                         \
    has = (uint8_t)r_;                                                        \
  } while (0)
#define T(name, req, kind, dst, has)                                          \
  do {                                                                        \
    int r_ = je_field(e, body, name, "body", req, F_TEXT, kind, 0, 0, &dst);     \
    if (r_ < 0) return -1;                                                    \
    has = (uint8_t)r_;                                                        \
  } while (0)

static int message(enc *e, int body, int type, iotp_message *m, iotp_writer *vw) {
  uint8_t has = 0;
  int64_t v = 0;
  int tok;
  memset(m, 0, sizeof *m);
  (void)has;
  m->type = (uint8_t)type;
  if (body < 0 || e->d->t[body].type != J_OBJ) return je_bad(e, "body", "expected a map");
  switch (type) {
    case IOTP_HELLO:
      T("deviceId", 1, K_ID, m->u.hello.device_id, has);
      T("firmware", 1, K_PRINT, m->u.hello.firmware, has);
      U("capabilities", 1, 0, 0xFFFFFFFFLL, v, has);
      m->u.hello.capabilities = (uint32_t)v;
      U("maxFrame", 0, 254, 65535, v, m->u.hello.has_max_frame);
      m->u.hello.max_frame = (uint16_t)v;
      return 0;
    case IOTP_DESCRIBE: return je_sensors(e, json_get(e->d, body, "sensors"), &m->u.describe);
    case IOTP_DATA:
      U("uptime", 0, 0, SAFE, v, m->u.data.has_uptime);
      m->u.data.uptime = (uint64_t)v;
      U("time", 0, 0, SAFE, v, m->u.data.has_time);
      m->u.data.time = (uint64_t)v;
      return je_readings(e, json_get(e->d, body, "readings"), &m->u.data);
    case IOTP_ACK:
      U("session", 1, 0, 0xFFFFFFFFLL, v, has);
      m->u.ack.session = (uint32_t)v;
      U("cumulative", 1, 0, 0xFFFF, v, has);
      m->u.ack.cumulative = (uint16_t)v;
      U("selective", 0, 0, 0xFFFFFFFFLL, v, m->u.ack.has_selective);
      m->u.ack.selective = (uint32_t)v;
      return 0;
    case IOTP_TIME_REQUEST:
      U("uptime", 1, 0, SAFE, v, has);
      m->u.time.uptime = (uint64_t)v;
      return 0;
    case IOTP_TIME_RESPONSE:
      U("uptime", 1, 0, SAFE, v, has);
      m->u.time.uptime = (uint64_t)v;
      U("received", 1, 0, SAFE, v, has);
      m->u.time.received = (uint64_t)v;
      U("sent", 1, 0, SAFE, v, has);
      m->u.time.sent = (uint64_t)v;
      return 0;
    case IOTP_ERROR:
      U("code", 1, 0, 0xFFFF, v, has);
      m->u.error.code = (uint16_t)v;
      T("message", 0, K_TEXT, m->u.error.message, m->u.error.has_message);
      U("seq", 0, 0, 0xFFFF, v, m->u.error.has_seq);
      m->u.error.seq = (uint16_t)v;
      return 0;
    case IOTP_LOG:
      U("level", 1, 0, 7, v, has);
      m->u.log.level = (uint8_t)v;
      T("message", 1, K_TEXT, m->u.log.message, has);
      U("uptime", 0, 0, SAFE, v, m->u.log.has_uptime);
      m->u.log.uptime = (uint64_t)v;
      return 0;
    default: {
      int result = type == IOTP_COMMAND_RESULT;
      U("id", 1, 0, 0xFFFFFFFFLL, v, has);
      m->u.command.id = (uint32_t)v;
      if (!result) {
        T("name", 1, K_ID, m->u.command.name, has);
      } else {
        U("status", 1, 0, 255, v, has);
        m->u.command.status = (uint8_t)v;
        T("message", 0, K_TEXT, m->u.command.message, m->u.command.has_message);
      }
      tok = json_get(e->d, body, result ? "result" : "args");
      if (tok >= 0) {
        if (!result && e->d->t[tok].type != J_OBJ) return je_bad(e, "body.args", "expected a map");
        if (je_value(e, vw, tok, 2, result ? "body.result" : "body.args") != 0) return -1;
        if (vw->err) return je_bad(e, "body", "frame too long");
        m->u.command.value = vw->buf;
        m->u.command.value_len = vw->len;
      }
      return 0;
    }
  }
}

static int encode_body(enc *e, int body, int type, iotp_writer *w) {
  iotp_message m;
  iotp_writer vw;
  uint8_t *scratch = (uint8_t *)malloc(w->cap + 1);
  int r;
  if (!scratch) return je_bad(e, "body", "out of memory");
  iotp_w_init(&vw, scratch, w->cap);
  r = message(e, body, type, &m, &vw);
  if (r == 0 && iotp_encode_payload(w, &m) != 0) r = je_bad(e, "body", "frame too long");
  if (type == IOTP_DATA) free((void *)m.u.data.items);
  if (type == IOTP_DESCRIBE) free((void *)m.u.describe.items);
  free(scratch);
  return r;
}

int fj_encode_body(const json_doc *d, int body, int type, iotp_writer *w, char *err, size_t errcap) {
  enc e;
  int r;
  e.d = d;
  e.err = err;
  e.errcap = errcap;
  e.cap = d->len + 16;
  e.used = 0;
  e.arena = (char *)malloc(e.cap);
  if (!e.arena) return je_bad(&e, "body", "out of memory");
  r = encode_body(&e, body, type, w);
  free(e.arena);
  return r;
}

static int header_field(const json_doc *d, int root, const char *name, int optional, int64_t dflt, int64_t max,
                        int64_t *out) {
  int tok = json_get(d, root, name);
  if (optional && (tok < 0 || d->t[tok].type == J_NULL)) {
    *out = dflt;
    return 0;
  }
  if (tok < 0 || !je_safe_int(d, tok, out) || *out < 0 || *out > max) return -1;
  return 0;
}

static int hexv(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int raw_line(const json_doc *d, int tok, uint8_t *out, size_t cap, size_t *out_len) {
  char *s = (char *)malloc(d->len + 1);
  int lone = 0;
  long n;
  long i;
  size_t w = 0;
  int hi = -1;
  if (!s) return -1;
  n = json_string(d, tok, s, d->len + 1, &lone);
  for (i = 0; i < n; i++) {
    int v;
    if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') continue;
    v = hexv(s[i]);
    if (v < 0 || w >= cap) break;
    if (hi < 0) {
      hi = v;
    } else {
      out[w++] = (uint8_t)(hi << 4 | v);
      hi = -1;
    }
  }
  free(s);
  if (n < 0 || i < n || hi >= 0 || w >= cap) return -1;
  out[w++] = 0;
  *out_len = w;
  return 0;
}

int fj_encode_line(const char *line, size_t len, size_t max_frame, uint8_t *out, size_t cap,
                   size_t *out_len, char *err, size_t errcap) {
  json_doc d;
  json_tok *toks;
  int root;
  int tok;
  int type = 0;
  int r = -1;
  int64_t version = 0, flags = 0, seq = 0, session = 0;
  iotp_writer pw;
  uint8_t *payload = 0;
  iotp_header h;
  toks = (json_tok *)malloc(sizeof(json_tok) * (len / 2 + 16));
  if (!toks) return -1;
  if (!iotp_utf8_ok((const uint8_t *)line, len) || json_parse(&d, line, len, toks, (int)(len / 2 + 16)) != 0) {
    snprintf(err, errcap, "JSON_INVALID: not a JSON value");
    goto done;
  }
  root = 0;
  if (d.t[root].type == J_OBJ && json_get(&d, root, "type") < 0) {
    tok = json_get(&d, root, "raw");
    if (tok >= 0 && d.t[tok].type == J_STR) {
      r = raw_line(&d, tok, out, cap, out_len);
      if (r != 0) snprintf(err, errcap, "FRAME_INVALID: raw: expected hex");
      goto done;
    }
  }
  if (d.t[root].type != J_OBJ) {
    snprintf(err, errcap, "FRAME_INVALID: frame: expected an object");
    goto done;
  }
  if (header_field(&d, root, "version", 1, 1, 255, &version) || header_field(&d, root, "flags", 1, 0, 255, &flags) ||
      header_field(&d, root, "seq", 0, 0, 0xFFFF, &seq) || header_field(&d, root, "session", 0, 0, 0xFFFFFFFFLL, &session)) {
    snprintf(err, errcap, "FRAME_INVALID: header field out of range or missing");
    goto done;
  }
  tok = json_get(&d, root, "type");
  if (tok >= 0 && d.t[tok].type == J_STR) {
    char name[32];
    int lone = 0;
    long n = json_string(&d, tok, name, sizeof name, &lone);
    if (n > 0 && !lone) type = fj_type_code(name, (size_t)n);
  }
  if (type == 0) {
    snprintf(err, errcap, "FRAME_INVALID: type: expected a message type name");
    goto done;
  }
  if (max_frame < IOTP_MIN_FRAME) goto done;
  payload = (uint8_t *)malloc(max_frame);
  if (!payload) goto done;
  iotp_w_init(&pw, payload, max_frame - IOTP_MIN_FRAME);
  {
    char why[160];
    if (fj_encode_body(&d, json_get(&d, root, "body"), type, &pw, why, sizeof why) != 0) {
      snprintf(err, errcap, "FRAME_INVALID: %s", why);
      goto done;
    }
  }
  h.version = (uint8_t)version;
  h.flags = (uint8_t)flags;
  h.type = (uint8_t)type;
  h.seq = (uint16_t)seq;
  h.session = (uint32_t)session;
  {
    iotp_frame_builder fb;
    iotp_writer *w = iotp_frame_begin(&fb, out, cap, &h);
    iotp_w_raw(w, payload, pw.len);
    *out_len = iotp_frame_end(&fb);
    if (*out_len == 0) {
      snprintf(err, errcap, "FRAME_INVALID: frame exceeds the output buffer");
      goto done;
    }
  }
  r = 0;
done:
  free(payload);
  free(toks);
  return r;
}
