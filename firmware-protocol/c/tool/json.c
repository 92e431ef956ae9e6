/* Strict recursive-descent JSON (RFC 8259) into a flat token array. */
#include "json.h"

#include <stdlib.h>
#include <string.h>

#define MAX_NESTING 64

typedef struct {
  json_doc *d;
  size_t pos;
  int cap;
} parser;

static void ws(parser *p) {
  while (p->pos < p->d->len) {
    char c = p->d->s[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    p->pos++;
  }
}

static int new_tok(parser *p, int type) {
  json_tok *t;
  if (p->d->count >= p->cap) return -1;
  t = &p->d->t[p->d->count];
  t->type = type;
  t->start = p->pos;
  t->end = p->pos;
  t->size = 0;
  t->next = 0;
  return p->d->count++;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int string(parser *p) {
  const char *s = p->d->s;
  int i = new_tok(p, J_STR);
  if (i < 0) return -1;
  p->pos++; /* opening quote */
  p->d->t[i].start = p->pos;
  while (p->pos < p->d->len) {
    unsigned char c = (unsigned char)s[p->pos];
    if (c == '"') {
      p->d->t[i].end = p->pos++;
      p->d->t[i].next = p->d->count;
      return 0;
    }
    if (c < 0x20u) return -1;
    if (c == '\\') {
      char e;
      if (++p->pos >= p->d->len) return -1;
      e = s[p->pos];
      if (e == 'u') {
        int k;
        for (k = 1; k <= 4; k++) {
          if (p->pos + (size_t)k >= p->d->len || hexval(s[p->pos + (size_t)k]) < 0) return -1;
        }
        p->pos += 4;
      } else if (!strchr("\"\\/bfnrt", e) || e == 0) {
        return -1;
      }
    }
    p->pos++;
  }
  return -1;
}

static int digits(parser *p) {
  size_t from = p->pos;
  while (p->pos < p->d->len && p->d->s[p->pos] >= '0' && p->d->s[p->pos] <= '9') p->pos++;
  return p->pos > from ? 0 : -1;
}

static int number(parser *p) {
  const char *s = p->d->s;
  int i = new_tok(p, J_NUM);
  if (i < 0) return -1;
  if (s[p->pos] == '-') p->pos++;
  if (p->pos < p->d->len && s[p->pos] == '0') {
    p->pos++;
  } else if (digits(p) != 0) {
    return -1;
  }
  if (p->pos < p->d->len && s[p->pos] == '.') {
    p->pos++;
    if (digits(p) != 0) return -1;
  }
  if (p->pos < p->d->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
    p->pos++;
    if (p->pos < p->d->len && (s[p->pos] == '+' || s[p->pos] == '-')) p->pos++;
    if (digits(p) != 0) return -1;
  }
  p->d->t[i].end = p->pos;
  p->d->t[i].next = p->d->count;
  return 0;
}

static int literal(parser *p, const char *word, int type) {
  size_t n = strlen(word);
  int i;
  if (p->d->len - p->pos < n || memcmp(p->d->s + p->pos, word, n) != 0) return -1;
  i = new_tok(p, type);
  if (i < 0) return -1;
  p->pos += n;
  p->d->t[i].end = p->pos;
  p->d->t[i].next = p->d->count;
  return 0;
}

static int value(parser *p, int depth) {
  char c;
  ws(p);
  if (p->pos >= p->d->len) return -1;
  c = p->d->s[p->pos];
  if (c == '{' || c == '[') {
    int obj = c == '{';
    int i = new_tok(p, obj ? J_OBJ : J_ARR);
    if (i < 0 || depth >= MAX_NESTING) return -1;
    p->pos++;
    ws(p);
    if (p->pos < p->d->len && p->d->s[p->pos] == (obj ? '}' : ']')) {
      p->pos++;
    } else {
      for (;;) {
        if (obj) {
          ws(p);
          if (p->pos >= p->d->len || p->d->s[p->pos] != '"' || string(p) != 0) return -1;
          ws(p);
          if (p->pos >= p->d->len || p->d->s[p->pos] != ':') return -1;
          p->pos++;
        }
        if (value(p, depth + 1) != 0) return -1;
        p->d->t[i].size++;
        ws(p);
        if (p->pos >= p->d->len) return -1;
        c = p->d->s[p->pos++];
        if (c == ',') continue;
        if (c == (obj ? '}' : ']')) break;
        return -1;
      }
    }
    p->d->t[i].end = p->pos;
    p->d->t[i].next = p->d->count;
    return 0;
  }
  if (c == '"') return string(p);
  if (c == '-' || (c >= '0' && c <= '9')) return number(p);
  if (c == 't') return literal(p, "true", J_TRUE);
  if (c == 'f') return literal(p, "false", J_FALSE);
  if (c == 'n') return literal(p, "null", J_NULL);
  return -1;
}

int json_parse(json_doc *d, const char *s, size_t len, json_tok *toks, int cap) {
  parser p;
  d->s = s;
  d->len = len;
  d->t = toks;
  d->count = 0;
  p.d = d;
  p.pos = 0;
  p.cap = cap;
  if (value(&p, 0) != 0) return -1;
  ws(&p);
  return p.pos == len ? 0 : -1;
}

int json_child(const json_doc *d, int parent, int i) {
  int k = parent + 1;
  int n;
  if (parent < 0 || i < 0 || i >= d->t[parent].size) return -1;
  for (n = 0; n < i; n++) {
    if (d->t[parent].type == J_OBJ) k = d->t[k].next; /* skip the key */
    k = d->t[k].next;
  }
  return k;
}

int json_get(const json_doc *d, int obj, const char *key) {
  int found = -1;
  int k;
  int n;
  char buf[64];
  size_t klen = strlen(key);
  if (obj < 0 || d->t[obj].type != J_OBJ) return -1;
  k = obj + 1;
  for (n = 0; n < d->t[obj].size; n++) {
    int lone = 0;
    long len = json_string(d, k, buf, sizeof buf, &lone);
    int v = d->t[k].next;
    if (len == (long)klen && memcmp(buf, key, klen) == 0) found = v;
    k = d->t[v].next;
  }
  return found;
}

static size_t put_utf8(char *out, unsigned long cp) {
  if (cp < 0x80u) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800u) {
    out[0] = (char)(0xC0u | (cp >> 6));
    out[1] = (char)(0x80u | (cp & 0x3Fu));
    return 2;
  }
  if (cp < 0x10000u) {
    out[0] = (char)(0xE0u | (cp >> 12));
    out[1] = (char)(0x80u | ((cp >> 6) & 0x3Fu));
    out[2] = (char)(0x80u | (cp & 0x3Fu));
    return 3;
  }
  out[0] = (char)(0xF0u | (cp >> 18));
  out[1] = (char)(0x80u | ((cp >> 12) & 0x3Fu));
  out[2] = (char)(0x80u | ((cp >> 6) & 0x3Fu));
  out[3] = (char)(0x80u | (cp & 0x3Fu));
  return 4;
}

static unsigned long hex4(const char *s) {
  unsigned long v = 0;
  int k;
  for (k = 0; k < 4; k++) v = (v << 4) | (unsigned long)hexval(s[k]);
  return v;
}

long json_string(const json_doc *d, int tok, char *out, size_t cap, int *lone) {
  const char *s = d->s;
  size_t i;
  size_t end;
  size_t w = 0;
  char tmp[4];
  if (tok < 0 || d->t[tok].type != J_STR) return -1;
  i = d->t[tok].start;
  end = d->t[tok].end;
  while (i < end) {
    size_t n = 1;
    char c = s[i++];
    tmp[0] = c;
    if (c == '\\') {
      char e = s[i++];
      if (e == 'u') {
        unsigned long cp = hex4(s + i);
        i += 4;
        if (cp >= 0xD800u && cp <= 0xDBFFu && i + 6 <= end && s[i] == '\\' && s[i + 1] == 'u') {
          unsigned long lo = hex4(s + i + 2);
          if (lo >= 0xDC00u && lo <= 0xDFFFu) {
            cp = 0x10000u + ((cp - 0xD800u) << 10) + (lo - 0xDC00u);
            i += 6;
          }
        }
        if (cp >= 0xD800u && cp <= 0xDFFFu) *lone = 1;
        n = put_utf8(tmp, cp);
      } else {
        tmp[0] = e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
      }
    }
    if (w + n > cap) return -1;
    memcpy(out + w, tmp, n);
    w += n;
  }
  return (long)w;
}

int json_number(const json_doc *d, int tok, double *out) {
  char buf[64];
  size_t n;
  if (tok < 0 || d->t[tok].type != J_NUM) return 0;
  n = d->t[tok].end - d->t[tok].start;
  if (n >= sizeof buf) {
    /* Long numbers: let strtod read from a heap copy. */
    char *big = (char *)malloc(n + 1);
    if (!big) return 0;
    memcpy(big, d->s + d->t[tok].start, n);
    big[n] = 0;
    *out = strtod(big, 0);
    free(big);
    return 1;
  }
  memcpy(buf, d->s + d->t[tok].start, n);
  buf[n] = 0;
  *out = strtod(buf, 0);
  return 1;
}
