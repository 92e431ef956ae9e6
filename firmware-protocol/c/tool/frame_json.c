/* JSON lines for proto-tool and the vector tests; mirrors src/json.ts and the TypeScript
 * encoder's validation so both tools print and accept the same lines. */
#include "frame_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor_read.h"

void sb_init(sbuf *b) {
  b->buf = 0;
  b->len = 0;
  b->cap = 0;
}

void sb_free(sbuf *b) {
  free(b->buf);
  sb_init(b);
}

void sb_put(sbuf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *next;
    while (cap < b->len + n + 1) cap *= 2;
    next = (char *)realloc(b->buf, cap);
    if (!next) abort();
    b->buf = next;
    b->cap = cap;
  }
  memcpy(b->buf + b->len, s, n);
  b->len += n;
  b->buf[b->len] = 0;
}

void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

void sb_fmt(sbuf *b, const char *fmt, ...) {
  char tmp[128];
  int n;
  va_list ap;
  va_start(ap, fmt);
  n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void sb_hex(sbuf *b, const uint8_t *data, size_t n) {
  static const char digits[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    char two[2];
    two[0] = digits[data[i] >> 4];
    two[1] = digits[data[i] & 15u];
    sb_put(b, two, 2);
  }
}

/* Escapes like JSON.stringify: \" \\ \b \f \n \r \t, other controls as \u00xx. */
static void sb_json_str(sbuf *b, const char *s, size_t n) {
  size_t i;
  sb_put(b, "\"", 1);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *e = 0;
    switch (c) {
      case '"': e = "\\\""; break;
      case '\\': e = "\\\\"; break;
      case '\b': e = "\\b"; break;
      case '\f': e = "\\f"; break;
      case '\n': e = "\\n"; break;
      case '\r': e = "\\r"; break;
      case '\t': e = "\\t"; break;
      default: break;
    }
    if (e) {
      sb_str(b, e);
    } else if (c < 0x20u) {
      sb_fmt(b, "\\u%04x", c);
    } else {
      sb_put(b, (const char *)&s[i], 1);
    }
  }
  sb_put(b, "\"", 1);
}

static void key(sbuf *b, int *first, const char *name) {
  sb_str(b, *first ? "\"" : ",\"");
  sb_str(b, name);
  sb_str(b, "\":");
  *first = 0;
}

static void kuint(sbuf *b, int *first, const char *name, unsigned long long v) {
  key(b, first, name);
  sb_fmt(b, "%llu", v);
}

static void ktext(sbuf *b, int *first, const char *name, iotp_str s) {
  key(b, first, name);
  sb_json_str(b, s.ptr, s.len);
}

/* Any value of the subset as JSON; map keys keep their (canonical) CBOR order. */
static void cbor_json(sbuf *b, const uint8_t *p, size_t len, size_t pos) {
  iotp_item it;
  size_t at;
  uint64_t i;
  iotp_item_at(p, len, pos, &it);
  switch (it.major) {
    case 0: sb_fmt(b, "%llu", (unsigned long long)it.arg); break;
    case 1: sb_fmt(b, "%lld", -1LL - (long long)it.arg); break;
    case 3: sb_json_str(b, (const char *)p + it.data, (size_t)it.arg); break;
    case 7: sb_str(b, it.simple == 20u ? "false" : it.simple == 21u ? "true" : "null"); break;
    case 4:
    case 5:
      sb_str(b, it.major == 4u ? "[" : "{");
      at = it.data;
      for (i = 0; i < it.arg; i++) {
        iotp_item x;
        if (i > 0) sb_str(b, ",");
        if (it.major == 5u) {
          iotp_item_at(p, len, at, &x);
          cbor_json(b, p, len, at);
          sb_str(b, ":");
          at = x.end;
        }
        iotp_item_at(p, len, at, &x);
        cbor_json(b, p, len, at);
        at = x.end;
      }
      sb_str(b, it.major == 4u ? "]" : "}");
      break;
    default: sb_str(b, "null"); break; /* bytes never reach here: rejected as unsupported */
  }
}

void fj_body(sbuf *b, const iotp_message *m) {
  int f = 1;
  size_t i;
  iotp_iter it;
  sb_str(b, "{");
  switch (m->type) {
    case IOTP_HELLO:
      ktext(b, &f, "deviceId", m->u.hello.device_id);
      ktext(b, &f, "firmware", m->u.hello.firmware);
      kuint(b, &f, "capabilities", m->u.hello.capabilities);
      if (m->u.hello.has_max_frame) kuint(b, &f, "maxFrame", m->u.hello.max_frame);
      break;
    case IOTP_DESCRIBE:
      key(b, &f, "sensors");
      sb_str(b, "[");
      iotp_sensors_begin(&m->u.describe, &it);
      for (i = 0; i < m->u.describe.count; i++) {
        iotp_sensor s;
        int g = 1;
        if (!iotp_sensors_next(&it, &s)) break;
        sb_str(b, i ? ",{" : "{");
        kuint(b, &g, "alias", s.alias);
        ktext(b, &g, "name", s.name);
        if (s.has_unit) ktext(b, &g, "unit", s.unit);
        if (s.has_scale) {
          key(b, &g, "scale");
          sb_fmt(b, "%d", (int)s.scale);
        }
        sb_str(b, "}");
      }
      sb_str(b, "]");
      break;
    case IOTP_DATA:
      if (m->u.data.has_uptime) kuint(b, &f, "uptime", m->u.data.uptime);
      if (m->u.data.has_time) kuint(b, &f, "time", m->u.data.time);
      key(b, &f, "readings");
      sb_str(b, "[");
      iotp_readings_begin(&m->u.data, &it);
      for (i = 0; i < m->u.data.count; i++) {
        iotp_reading r;
        if (!iotp_readings_next(&it, &r)) break;
        sb_fmt(b, "%s[%u,%lld]", i ? "," : "", (unsigned)r.alias, (long long)r.value);
      }
      sb_str(b, "]");
      break;
    case IOTP_ACK:
      kuint(b, &f, "session", m->u.ack.session);
      kuint(b, &f, "cumulative", m->u.ack.cumulative);
      if (m->u.ack.has_selective) kuint(b, &f, "selective", m->u.ack.selective);
      break;
    case IOTP_TIME_REQUEST:
      kuint(b, &f, "uptime", m->u.time.uptime);
      break;
    case IOTP_TIME_RESPONSE:
      kuint(b, &f, "uptime", m->u.time.uptime);
      kuint(b, &f, "received", m->u.time.received);
      kuint(b, &f, "sent", m->u.time.sent);
      break;
    case IOTP_ERROR:
      kuint(b, &f, "code", m->u.error.code);
      if (m->u.error.has_message) ktext(b, &f, "message", m->u.error.message);
      if (m->u.error.has_seq) kuint(b, &f, "seq", m->u.error.seq);
      break;
    case IOTP_LOG:
      kuint(b, &f, "level", m->u.log.level);
      ktext(b, &f, "message", m->u.log.message);
      if (m->u.log.has_uptime) kuint(b, &f, "uptime", m->u.log.uptime);
      break;
    case IOTP_COMMAND:
      kuint(b, &f, "id", m->u.command.id);
      ktext(b, &f, "name", m->u.command.name);
      if (m->u.command.value) {
        key(b, &f, "args");
        cbor_json(b, m->u.command.value, m->u.command.value_len, 0);
      }
      break;
    case IOTP_COMMAND_RESULT:
      kuint(b, &f, "id", m->u.command.id);
      kuint(b, &f, "status", m->u.command.status);
      if (m->u.command.has_message) ktext(b, &f, "message", m->u.command.message);
      if (m->u.command.value) {
        key(b, &f, "result");
        cbor_json(b, m->u.command.value, m->u.command.value_len, 0);
      }
      break;
    default: break;
  }
  sb_str(b, "}");
}

void fj_event(sbuf *b, const iotp_event *ev) {
  char reason[160];
  if (ev->ok) {
    const iotp_header *h = &ev->header;
    sb_fmt(b, "{\"offset\":%lu,\"version\":%u,\"flags\":%u,\"type\":\"%s\",\"seq\":%u,\"session\":%lu,\"body\":",
           (unsigned long)ev->offset, h->version, h->flags, iotp_type_name(h->type), h->seq,
           (unsigned long)h->session);
    fj_body(b, &ev->msg);
    sb_str(b, "}");
    return;
  }
  iotp_format_reason(&ev->fail, reason, sizeof reason);
  sb_fmt(b, "{\"offset\":%lu,\"error\":\"%s\",\"reason\":", (unsigned long)ev->offset, iotp_code_name(ev->fail.code));
  sb_json_str(b, reason, strlen(reason));
  sb_str(b, ",\"raw\":\"");
  sb_hex(b, ev->raw, ev->raw_len);
  sb_str(b, "\"}");
}

void fj_stats(sbuf *b, const iotp_counters *c) {
  int i;
  sb_fmt(b, "{\"stats\":{\"bytes\":%lu,\"frames\":%lu,\"rejected\":%lu,", (unsigned long)c->bytes,
         (unsigned long)c->frames, (unsigned long)c->rejected);
  sb_fmt(b, "\"sessions\":%lu,\"gaps\":%lu,\"lost\":%lu,", (unsigned long)c->sessions, (unsigned long)c->gaps,
         (unsigned long)c->lost);
  sb_fmt(b, "\"duplicates\":%lu,\"recovered\":%lu,\"errors\":{", (unsigned long)c->duplicates,
         (unsigned long)c->recovered);
  for (i = 1; i < IOTP_CODE_COUNT; i++) {
    sb_fmt(b, "%s\"%s\":%lu", i > 1 ? "," : "", iotp_code_name(i), (unsigned long)c->errors[i]);
  }
  sb_str(b, "}}}");
}

int fj_type_code(const char *name, size_t len) {
  int t;
  for (t = IOTP_HELLO; t <= IOTP_COMMAND_RESULT; t++) {
    const char *n = iotp_type_name(t);
    if (strlen(n) == len && memcmp(n, name, len) == 0) return t;
  }
  return 0;
}
