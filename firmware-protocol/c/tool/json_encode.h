/* Internal to the C tool: JSON -> message validation shared by json_encode.c and
 * json_values.c. Mirrors src/message-encode.ts. */
#ifndef IOTP_JSON_ENCODE_H
#define IOTP_JSON_ENCODE_H

#include "cbor_read.h"
#include "frame_json.h"

#define SAFE 9007199254740991LL

typedef struct {
  const json_doc *d;
  char *err;
  size_t errcap;
  char *arena; /* unescaped strings; never longer than the line */
  size_t used;
  size_t cap;
} enc;

enum { F_U, F_I, F_TEXT };

int je_bad(enc *e, const char *path, const char *what);
int je_safe_int(const json_doc *d, int tok, int64_t *out);
int je_str(enc *e, int tok, iotp_str *out, int *lone);
/* One scalar field of obj: 1 present, 0 absent, -1 invalid (min is the text kind for F_TEXT). */
int je_field(enc *e, int obj, const char *name, const char *path, int required, int kind, int64_t min,
             int64_t max, int64_t *num, iotp_str *text);
/* A JSON-like value as canonical CBOR; depth counts containers from the payload map. */
int je_value(enc *e, iotp_writer *w, int tok, int depth, const char *path);
/* readings and sensors lists; the item arrays are malloc'ed and belong to the caller. */
int je_readings(enc *e, int tok, iotp_data *d);
int je_sensors(enc *e, int tok, iotp_describe *d);

#endif
