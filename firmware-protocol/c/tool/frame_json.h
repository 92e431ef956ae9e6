/* Frames <-> the JSON line form of SPEC.md §8, for proto-tool and the vector tests. */
#ifndef IOTP_FRAME_JSON_H
#define IOTP_FRAME_JSON_H

#include "iotp.h"
#include "json.h"

typedef struct {
  char *buf;
  size_t len;
  size_t cap;
} sbuf;

void sb_init(sbuf *b);
void sb_free(sbuf *b);
void sb_put(sbuf *b, const char *s, size_t n);
void sb_str(sbuf *b, const char *s);
void sb_fmt(sbuf *b, const char *fmt, ...);
void sb_hex(sbuf *b, const uint8_t *data, size_t n);

/* The body object of a decoded message. */
void fj_body(sbuf *b, const iotp_message *m);
/* One decode output line (without the newline) for an event. */
void fj_event(sbuf *b, const iotp_event *ev);
void fj_stats(sbuf *b, const iotp_counters *c);

/* Encodes the body object `body` of a message type into w (validating like the TypeScript
 * encoder). Returns 0, or -1 with a reason in err. */
int fj_encode_body(const json_doc *d, int body, int type, iotp_writer *w, char *err, size_t errcap);
/* One encode input line -> wire bytes (COBS + 0x00) in out. Returns 0, or -1 with err set to
 * "CODE: reason". */
int fj_encode_line(const char *line, size_t len, size_t max_frame, uint8_t *out, size_t cap,
                   size_t *out_len, char *err, size_t errcap);

int fj_type_code(const char *name, size_t len);

#endif
