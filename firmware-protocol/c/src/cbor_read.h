/* Internal: the validating CBOR reader shared by the decoder and the tools. */
#ifndef IOTP_CBOR_READ_H
#define IOTP_CBOR_READ_H

#include "iotp.h"

/* Details of iotp_fail.what; reason.c has their texts. */
enum iotp_what {
  W_NONE,
  /* framing */
  W_TOO_LONG_ENCODED,
  W_TOO_LONG,
  W_SHORT,
  W_END_OF_STREAM,
  W_COBS,
  W_CRC,
  W_VERSION,
  W_FLAGS,
  W_TYPE,
  /* cbor */
  W_END,
  W_RESERVED,
  W_BREAK,
  W_INDEFINITE,
  W_FLOAT,
  W_SIMPLE,
  W_SHORTEST,
  W_RANGE,
  W_UTF8,
  W_DEPTH,
  W_KEY_TYPE,
  W_DUPLICATE_KEY,
  W_KEY_ORDER,
  W_TRAILING,
  W_TAG,
  /* payload shape */
  W_P_MAP,
  W_P_ARRAY,
  W_P_UINT,
  W_P_INT,
  W_P_TEXT,
  W_P_MISSING,
  W_P_RANGE,
  W_P_INVALID_TEXT,
  W_P_DUPLICATE_ALIAS,
  W_P_UNSUPPORTED
};

typedef struct {
  uint8_t major;
  uint8_t simple; /* major 7: 20 false, 21 true, 22 null */
  uint64_t arg;   /* value, length or count */
  size_t at;      /* head */
  size_t data;    /* first byte after the head */
  size_t end;     /* first byte after the whole item */
} iotp_item;

typedef struct {
  const uint8_t *b;
  size_t len;
  size_t pos;
  iotp_fail *why;
} iotp_rd;

/* Reads and checks one item (containers completely); 0 or -1 with r->why set. */
int iotp_rd_item(iotp_rd *r, unsigned depth, iotp_item *it);
/* Checks that b[0..len) is exactly one item of the subset [FP-4.8]. */
int iotp_cbor_check(const uint8_t *b, size_t len, iotp_fail *why);
/* Reads the item at pos of an already checked buffer. */
void iotp_item_at(const uint8_t *b, size_t len, size_t pos, iotp_item *it);
int iotp_utf8_ok(const uint8_t *s, size_t n);
/* Text field kinds [FP-5.1]: id 1..64 of [A-Za-z0-9._-], print 1..32 printable ASCII, unit
 * 1..16 visible ASCII, text anything. */
enum iotp_text_kind { K_ID, K_PRINT, K_UNIT, K_TEXT };
int iotp_text_ok(int kind, const uint8_t *s, size_t n);

#endif
