/* Helpers of the C vector tests: files, hex, JSON minifying, decoding into lines. */
#ifndef IOTP_TEST_SUPPORT_H
#define IOTP_TEST_SUPPORT_H

#include <stdio.h>

#include "frame_json.h"

extern int failures;
extern int checks;

#define CHECK(cond, ...)                  \
  do {                                    \
    checks++;                             \
    if (!(cond)) {                        \
      failures++;                         \
      fprintf(stderr, "FAIL: " __VA_ARGS__); \
      fputc('\n', stderr);                \
    }                                     \
  } while (0)

typedef struct {
  char *text;
  json_doc d;
  json_tok *t;
} file;
typedef struct {
  char **lines;
  int count;
} collected;

void load(file *f, const char *dir, const char *name);
void unload(file *f);
/* A string token as a NUL-terminated copy (free it). */
char *s_of(const json_doc *d, int tok);
uint8_t *hex_of(const json_doc *d, int tok, size_t *n);
/* The token's JSON text with whitespace outside strings removed (free it). */
char *minify(const json_doc *d, int tok);
long num_of(const json_doc *d, int tok, long dflt);
/* Decodes a stream fed in chunks of `chunk` bytes (0: all at once) into output lines. */
void decode_stream(const uint8_t *in, size_t n, size_t max_frame, size_t chunk, collected *out,
                   iotp_counters *counters);
void free_collected(collected *c);

#endif
