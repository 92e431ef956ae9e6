/* Internal: field checks of the payload decoder (decode.c, fields.c). */
#ifndef IOTP_FIELDS_H
#define IOTP_FIELDS_H

#include "cbor_read.h"

#define IOTP_SAFE_MAX 0x1FFFFFFFFFFFFFull

typedef struct {
  const uint8_t *b;
  size_t len;
  iotp_fail *why;
  const char *field; /* for nested entries: the list field; else NULL */
  int32_t index;
} iotp_ctx;

/* Records a PAYLOAD_INVALID failure at the field `name`; returns -1. */
int iotp_pfail(const iotp_ctx *c, uint8_t what, const char *name);
/* Finds key in a checked map; 1 and *v when present. */
int iotp_find(const iotp_ctx *c, const iotp_item *map, uint64_t key, iotp_item *v);
/* Scalar fields: 1 present, 0 absent, -1 failed. */
int iotp_get_uint(const iotp_ctx *c, const iotp_item *map, uint64_t key, const char *name, int required,
                  uint64_t max, uint64_t min, uint64_t *out);
int iotp_get_text(const iotp_ctx *c, const iotp_item *map, uint64_t key, const char *name, int required,
                  int kind, iotp_str *out);
int64_t iotp_int_value(const iotp_item *v);
/* 0 when v is JSON-like (no byte strings, text map keys only), else -1. */
int iotp_json_like(const iotp_ctx *c, const iotp_item *v, const char *name);

#endif
