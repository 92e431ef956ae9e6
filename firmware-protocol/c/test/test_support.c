/* See test_support.h. */
#include "test_support.h"

#include <stdlib.h>
#include <string.h>

int failures = 0;
int checks = 0;


char *read_file(const char *dir, const char *name, size_t *len) {
  char path[512];
  FILE *f;
  char *buf;
  long n;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = (char *)malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) exit(2);
  buf[n] = 0;
  fclose(f);
  *len = (size_t)n;
  return buf;
}


void load(file *f, const char *dir, const char *name) {
  size_t len;
  f->text = read_file(dir, name, &len);
  f->t = (json_tok *)malloc(sizeof(json_tok) * (len / 2 + 16));
  if (!f->t || json_parse(&f->d, f->text, len, f->t, (int)(len / 2 + 16)) != 0) {
    fprintf(stderr, "%s: not valid JSON\n", name);
    exit(2);
  }
}

void unload(file *f) {
  free(f->text);
  free(f->t);
}

/* Text of a string token (no escapes expected in hex and names); NUL-terminated copy. */
char *s_of(const json_doc *d, int tok) {
  size_t cap = d->t[tok].end - d->t[tok].start + 1;
  char *s = (char *)malloc(cap);
  int lone = 0;
  long n = json_string(d, tok, s, cap, &lone);
  s[n < 0 ? 0 : n] = 0;
  return s;
}

uint8_t *hex_of(const json_doc *d, int tok, size_t *n) {
  char *s = s_of(d, tok);
  size_t len = strlen(s);
  size_t i;
  uint8_t *b = (uint8_t *)malloc(len / 2 + 1);
  for (i = 0; i + 1 < len; i += 2) {
    unsigned v;
    sscanf(s + i, "%2x", &v);
    b[i / 2] = (uint8_t)v;
  }
  *n = len / 2;
  free(s);
  return b;
}

/* The token's JSON text with whitespace outside strings removed. */
char *minify(const json_doc *d, int tok) {
  size_t a = d->t[tok].start;
  size_t e = d->t[tok].end;
  char *out;
  size_t w = 0;
  int in = 0;
  if (d->t[tok].type == J_STR) {
    a--;
    e++;
  }
  out = (char *)malloc(e - a + 1);
  for (; a < e; a++) {
    char c = d->s[a];
    if (in) {
      out[w++] = c;
      if (c == '\\') out[w++] = d->s[++a];
      else if (c == '"') in = 0;
    } else if (c == '"') {
      in = 1;
      out[w++] = c;
    } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      out[w++] = c;
    }
  }
  out[w] = 0;
  return out;
}

long num_of(const json_doc *d, int tok, long dflt) {
  double x;
  return tok >= 0 && json_number(d, tok, &x) ? (long)x : dflt;
}


void collect(void *ctx, const iotp_event *ev) {
  collected *c = (collected *)ctx;
  sbuf b;
  sb_init(&b);
  fj_event(&b, ev);
  c->lines = (char **)realloc(c->lines, sizeof(char *) * (size_t)(c->count + 1));
  c->lines[c->count++] = b.buf;
}

void free_collected(collected *c) {
  int i;
  for (i = 0; i < c->count; i++) free(c->lines[i]);
  free(c->lines);
  c->lines = 0;
  c->count = 0;
}

/* Decodes a stream fed in chunks of `chunk` bytes (0: all at once). */
void decode_stream(const uint8_t *in, size_t n, size_t max_frame, size_t chunk, collected *out,
                          iotp_counters *counters) {
  iotp_decoder d;
  uint8_t *rx = (uint8_t *)malloc(IOTP_RX_BUF(max_frame));
  size_t i;
  out->lines = 0;
  out->count = 0;
  if (iotp_decoder_init(&d, rx, IOTP_RX_BUF(max_frame), max_frame, collect, out) != 0) exit(3);
  if (chunk == 0) chunk = n ? n : 1;
  for (i = 0; i < n; i += chunk) iotp_decoder_push(&d, in + i, n - i < chunk ? n - i : chunk);
  iotp_decoder_end(&d);
  if (counters) *counters = d.counters;
  free(rx);
}
