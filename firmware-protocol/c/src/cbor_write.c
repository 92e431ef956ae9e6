/* Deterministic CBOR writer: shortest heads, definite lengths [FP-4.2], [FP-4.3]. The caller
 * writes map keys in ascending order; integers stay within +-(2^53-1) [FP-4.5]. */
#include "iotp.h"

#define SAFE_MAX 0x1FFFFFFFFFFFFFull

void iotp_w_init(iotp_writer *w, uint8_t *buf, size_t cap) {
  w->buf = buf;
  w->cap = cap;
  w->len = 0;
  w->err = 0;
}

static void put(iotp_writer *w, uint8_t b) {
  if (w->len >= w->cap) {
    w->err = 1;
    return;
  }
  w->buf[w->len++] = b;
}

static void head(iotp_writer *w, uint8_t major, uint64_t arg) {
  uint8_t m = (uint8_t)(major << 5);
  int n;
  if (arg < 24u) {
    put(w, (uint8_t)(m | arg));
    return;
  }
  if (arg <= 0xFFu) {
    put(w, m | 24u);
    n = 1;
  } else if (arg <= 0xFFFFu) {
    put(w, m | 25u);
    n = 2;
  } else if (arg <= 0xFFFFFFFFu) {
    put(w, m | 26u);
    n = 4;
  } else {
    put(w, m | 27u);
    n = 8;
  }
  while (n-- > 0) put(w, (uint8_t)(arg >> (8 * n)));
}

void iotp_w_uint(iotp_writer *w, uint64_t v) {
  if (v > SAFE_MAX) w->err = 1;
  head(w, 0, v);
}

void iotp_w_int(iotp_writer *w, int64_t v) {
  if (v >= 0) {
    iotp_w_uint(w, (uint64_t)v);
    return;
  }
  if (v < -(int64_t)SAFE_MAX) w->err = 1;
  head(w, 1, (uint64_t)(-(v + 1)));
}

void iotp_w_raw(iotp_writer *w, const uint8_t *cbor, size_t len) {
  size_t i;
  if (len > w->cap - w->len) {
    w->err = 1;
    return;
  }
  for (i = 0; i < len; i++) w->buf[w->len++] = cbor[i];
}

void iotp_w_text(iotp_writer *w, const char *s, size_t len) {
  head(w, 3, len);
  iotp_w_raw(w, (const uint8_t *)s, len);
}

void iotp_w_bytes(iotp_writer *w, const uint8_t *data, size_t len) {
  head(w, 2, len);
  iotp_w_raw(w, data, len);
}

void iotp_w_array(iotp_writer *w, size_t count) { head(w, 4, count); }
void iotp_w_map(iotp_writer *w, size_t count) { head(w, 5, count); }
void iotp_w_bool(iotp_writer *w, int v) { put(w, v ? 0xF5u : 0xF4u); }
void iotp_w_null(iotp_writer *w) { put(w, 0xF6u); }
