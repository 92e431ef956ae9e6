/* Validating reader for the CBOR subset [FP-4.1]..[FP-4.9]. The order of the checks is
 * normative: it decides which error a malformed payload gets, in C and in TypeScript alike. */
#include "cbor_read.h"

#define SAFE_MAX 0x1FFFFFFFFFFFFFull

static int cfail(iotp_rd *r, uint8_t code, uint8_t what, size_t at) {
  iotp_fail *f = r->why;
  f->code = code;
  f->what = what;
  f->index = -1;
  f->field = 0;
  f->sub = 0;
  f->a = (uint32_t)at;
  f->b = 0;
  return -1;
}

int iotp_utf8_ok(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    size_t need;
    size_t k;
    uint32_t cp;
    uint32_t min;
    if (c < 0x80u) {
      i++;
      continue;
    }
    if (c >= 0xC2u && c <= 0xDFu) {
      need = 1;
      cp = c & 0x1Fu;
      min = 0x80u;
    } else if (c >= 0xE0u && c <= 0xEFu) {
      need = 2;
      cp = c & 0x0Fu;
      min = 0x800u;
    } else if (c >= 0xF0u && c <= 0xF4u) {
      need = 3;
      cp = c & 0x07u;
      min = 0x10000u;
    } else {
      return 0;
    }
    if (n - i - 1u < need) return 0;
    for (k = 1; k <= need; k++) {
      uint8_t d = s[i + k];
      if ((d & 0xC0u) != 0x80u) return 0;
      cp = (cp << 6) | (d & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu)) return 0;
    i += need + 1u;
  }
  return 1;
}

static int compare_range(const uint8_t *b, size_t a0, size_t a1, size_t b0, size_t b1) {
  size_t na = a1 - a0;
  size_t nb = b1 - b0;
  size_t n = na < nb ? na : nb;
  size_t i;
  for (i = 0; i < n; i++) {
    if (b[a0 + i] != b[b0 + i]) return b[a0 + i] < b[b0 + i] ? -1 : 1;
  }
  return na == nb ? 0 : (na < nb ? -1 : 1);
}

int iotp_rd_item(iotp_rd *r, unsigned depth, iotp_item *it) {
  const uint8_t *b = r->b;
  size_t at = r->pos;
  size_t p;
  uint8_t ib;
  uint8_t major;
  uint8_t ai;
  uint64_t arg;
  uint64_t i;
  if (at >= r->len) return cfail(r, IOTP_CBOR_INVALID, W_END, at);
  ib = b[at];
  major = (uint8_t)(ib >> 5);
  ai = ib & 31u;
  if (ai >= 28u && ai <= 30u) return cfail(r, IOTP_CBOR_INVALID, W_RESERVED, at);
  if (ai == 31u) {
    if (major == 7u) return cfail(r, IOTP_CBOR_INVALID, W_BREAK, at);
    if (major == 0u || major == 1u || major == 6u) return cfail(r, IOTP_CBOR_INVALID, W_RESERVED, at);
    return cfail(r, IOTP_CBOR_UNSUPPORTED, W_INDEFINITE, at);
  }
  it->major = major;
  it->at = at;
  it->simple = 0;
  it->arg = 0;
  if (major == 7u) {
    r->pos = at + 1u;
    if (ai >= 20u && ai <= 22u) {
      it->simple = ai;
      it->data = it->end = at + 1u;
      return 0;
    }
    if (ai >= 25u) return cfail(r, IOTP_CBOR_UNSUPPORTED, W_FLOAT, at);
    return cfail(r, IOTP_CBOR_UNSUPPORTED, W_SIMPLE, at);
  }
  arg = ai;
  p = at + 1u;
  if (ai >= 24u) {
    size_t n = (size_t)1 << (ai - 24u);
    size_t k;
    if (n > r->len - p) return cfail(r, IOTP_CBOR_INVALID, W_END, at);
    arg = 0;
    for (k = 0; k < n; k++) arg = (arg << 8) | b[p + k];
    if ((n == 1u && arg < 24u) || (n == 2u && arg < 0x100u) || (n == 4u && arg < 0x10000u) ||
        (n == 8u && arg <= 0xFFFFFFFFu)) {
      return cfail(r, IOTP_CBOR_NON_CANONICAL, W_SHORTEST, at);
    }
    p += n;
  }
  r->pos = p;
  it->arg = arg;
  it->data = p;
  switch (major) {
    case 0:
      if (arg > SAFE_MAX) return cfail(r, IOTP_CBOR_UNSUPPORTED, W_RANGE, at);
      break;
    case 1:
      if (arg > SAFE_MAX - 1u) return cfail(r, IOTP_CBOR_UNSUPPORTED, W_RANGE, at);
      break;
    case 2:
    case 3:
      if (arg > r->len - p) return cfail(r, IOTP_CBOR_INVALID, W_END, at);
      if (major == 3u && !iotp_utf8_ok(b + p, (size_t)arg)) return cfail(r, IOTP_CBOR_INVALID, W_UTF8, at);
      r->pos = p + (size_t)arg;
      break;
    case 4: {
      iotp_item child;
      if (depth + 1u > IOTP_MAX_DEPTH) return cfail(r, IOTP_CBOR_UNSUPPORTED, W_DEPTH, at);
      if (arg > r->len - p) return cfail(r, IOTP_CBOR_INVALID, W_END, at);
      for (i = 0; i < arg; i++) {
        if (iotp_rd_item(r, depth + 1u, &child) != 0) return -1;
      }
      break;
    }
    case 5: {
      iotp_item key;
      iotp_item value;
      size_t prev_at = 0;
      size_t prev_end = 0;
      if (depth + 1u > IOTP_MAX_DEPTH) return cfail(r, IOTP_CBOR_UNSUPPORTED, W_DEPTH, at);
      if (arg > (r->len - p) / 2u) return cfail(r, IOTP_CBOR_INVALID, W_END, at);
      for (i = 0; i < arg; i++) {
        size_t key_at = r->pos;
        if (iotp_rd_item(r, depth + 1u, &key) != 0) return -1;
        if (key.major != 0u && key.major != 3u) return cfail(r, IOTP_CBOR_UNSUPPORTED, W_KEY_TYPE, key_at);
        if (i > 0) {
          int c = compare_range(b, prev_at, prev_end, key_at, r->pos);
          if (c == 0) return cfail(r, IOTP_CBOR_NON_CANONICAL, W_DUPLICATE_KEY, key_at);
          if (c > 0) return cfail(r, IOTP_CBOR_NON_CANONICAL, W_KEY_ORDER, key_at);
        }
        prev_at = key_at;
        prev_end = r->pos;
        if (iotp_rd_item(r, depth + 1u, &value) != 0) return -1;
      }
      break;
    }
    default:
      return cfail(r, IOTP_CBOR_UNSUPPORTED, W_TAG, at);
  }
  it->end = r->pos;
  return 0;
}

int iotp_cbor_check(const uint8_t *b, size_t len, iotp_fail *why) {
  iotp_rd r;
  iotp_item it;
  r.b = b;
  r.len = len;
  r.pos = 0;
  r.why = why;
  if (iotp_rd_item(&r, 0, &it) != 0) return -1;
  if (r.pos != len) return cfail(&r, IOTP_CBOR_INVALID, W_TRAILING, r.pos);
  return 0;
}

void iotp_item_at(const uint8_t *b, size_t len, size_t pos, iotp_item *it) {
  iotp_rd r;
  iotp_fail ignored;
  r.b = b;
  r.len = len;
  r.pos = pos;
  r.why = &ignored;
  /* Depth 0: the buffer was checked already, so nothing can fail here. */
  (void)iotp_rd_item(&r, 0, it);
}
