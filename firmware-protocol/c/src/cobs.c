/* COBS with 0x00 as delimiter [FP-2.1], [FP-2.5]. */
#include "iotp.h"

/* Canonical form: a block of 254 non-zero bytes that ends the input gets no extra 0x01.
 * Works in place when in == out + k with k >= 1 + len / 254 (the frame builder does this). */
size_t iotp_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap) {
  size_t r;
  size_t w = 1;
  size_t code_at = 0;
  uint8_t code = 1;
  if (cap < IOTP_COBS_MAX(len)) return 0;
  for (r = 0; r < len; r++) {
    uint8_t b = in[r];
    if (b != 0) {
      out[w++] = b;
      code++;
    }
    if (b == 0 || code == 0xFFu) {
      out[code_at] = code;
      code = 1;
      code_at = w;
      if (b == 0 || r + 1 < len) w++;
    }
  }
  if (code_at < w) out[code_at] = code;
  return w;
}

size_t iotp_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len) {
  size_t r = 0;
  size_t w = 0;
  while (r < len) {
    uint8_t code = in[r];
    size_t end = r + code;
    if (end > len) {
      *out_len = w;
      return r + 1;
    }
    r++;
    while (r < end) out[w++] = in[r++];
    if (code != 0xFFu && r < len) out[w++] = 0;
  }
  *out_len = w;
  return 0;
}
