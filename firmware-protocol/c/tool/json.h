/* A small strict JSON reader for proto-tool and the vector tests (not part of the library). */
#ifndef IOTP_JSON_H
#define IOTP_JSON_H

#include <stddef.h>

enum json_type { J_OBJ, J_ARR, J_STR, J_NUM, J_TRUE, J_FALSE, J_NULL };

typedef struct {
  int type;
  size_t start; /* strings: first byte after the quote; others: first byte */
  size_t end;   /* strings: the closing quote; others: one past the last byte */
  int size;     /* members of an object, elements of an array */
  int next;     /* index of the first token after this one's subtree */
} json_tok;

typedef struct {
  const char *s;
  size_t len;
  json_tok *t;
  int count;
} json_doc;

/* Parses s[0..len) completely. Returns 0, or -1 on a syntax error or too many tokens. */
int json_parse(json_doc *d, const char *s, size_t len, json_tok *toks, int cap);
/* Value of the last member named key in object obj, or -1. */
int json_get(const json_doc *d, int obj, const char *key);
/* Token of element i of an array, or member i (its key token) of an object. */
int json_child(const json_doc *d, int parent, int i);
/* Unescapes a string token into out (UTF-8). Returns its length or -1 if cap is too small;
 * *lone is set when the string had an unpaired surrogate escape. */
long json_string(const json_doc *d, int tok, char *out, size_t cap, int *lone);
/* A number token as a double; 0 when tok is not a number. */
int json_number(const json_doc *d, int tok, double *out);

#endif
