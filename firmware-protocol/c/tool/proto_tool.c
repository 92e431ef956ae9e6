/* proto-tool: the C twin of `iot-proto` (src/cli.ts): same subcommands, flags, output and
 * exit codes (SPEC.md §8), so the two can be compared line by line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame_json.h"

#define EXIT_REJECTED 1
#define EXIT_USAGE 2

static const char *const usage =
    "Usage: proto-tool <command> [options]\n\n"
    "Commands:\n"
    "  decode   read a byte stream on stdin, write one JSON object per frame or rejected frame\n"
    "  encode   read one JSON frame per line on stdin, write the framed byte stream\n\n"
    "Options:\n"
    "  --hex            hex text instead of raw bytes (decode input, encode output)\n"
    "  --max-frame N    largest frame in bytes before COBS (13..65535, default 254)\n"
    "  --stats          decode: print the counters as a last line {\"stats\":{...}}\n"
    "  -h, --help       show help\n\n"
    "Exit codes: 0 all input valid, 1 some frames or lines rejected, 2 usage error or bad hex input.\n"
    "See firmware-protocol/SPEC.md section 8.\n";

typedef struct {
  sbuf out;
  int rejected;
} sink;

static void on_event(void *ctx, const iotp_event *ev) {
  sink *s = (sink *)ctx;
  if (!ev->ok) s->rejected = 1;
  fj_event(&s->out, ev);
  sb_put(&s->out, "\n", 1);
}

static void flush(sink *s) {
  fwrite(s->out.buf ? s->out.buf : "", 1, s->out.len, stdout);
  s->out.len = 0;
}

static unsigned char *read_all(size_t *len) {
  size_t cap = 1 << 16;
  size_t n = 0;
  unsigned char *buf = (unsigned char *)malloc(cap);
  size_t got;
  if (!buf) return 0;
  while ((got = fread(buf + n, 1, cap - n, stdin)) > 0) {
    n += got;
    if (n == cap) {
      unsigned char *next = (unsigned char *)realloc(buf, cap * 2);
      if (!next) {
        free(buf);
        return 0;
      }
      buf = next;
      cap *= 2;
    }
  }
  *len = n;
  return buf;
}

static int hexv(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int decode(int hex, int stats, size_t max_frame) {
  static uint8_t chunk[65536];
  uint8_t *rx = (uint8_t *)malloc(IOTP_RX_BUF(max_frame));
  iotp_decoder d;
  sink s;
  int rc;
  sb_init(&s.out);
  s.rejected = 0;
  if (!rx || iotp_decoder_init(&d, rx, IOTP_RX_BUF(max_frame), max_frame, on_event, &s) != 0) return EXIT_USAGE;
  if (hex) {
    size_t len = 0;
    size_t i;
    size_t w = 0;
    int hi = -1;
    unsigned char *text = read_all(&len);
    if (!text) return EXIT_USAGE;
    for (i = 0; i < len; i++) {
      int c = text[i];
      int v;
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
      v = hexv(c);
      if (v < 0) break;
      if (hi < 0) {
        hi = v;
      } else {
        text[w++] = (unsigned char)(hi << 4 | v);
        hi = -1;
      }
    }
    if (i < len || hi >= 0) {
      fputs("proto-tool: input is not hex text\n", stderr);
      free(text);
      free(rx);
      return EXIT_USAGE;
    }
    iotp_decoder_push(&d, text, w);
    free(text);
  } else {
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
      iotp_decoder_push(&d, chunk, got);
      flush(&s);
    }
  }
  iotp_decoder_end(&d);
  if (stats) {
    fj_stats(&s.out, &d.counters);
    sb_put(&s.out, "\n", 1);
  }
  flush(&s);
  rc = s.rejected ? EXIT_REJECTED : 0;
  sb_free(&s.out);
  free(rx);
  return rc;
}

static int encode(int hex, size_t max_frame) {
  size_t len = 0;
  size_t start = 0;
  size_t line_no = 0;
  int failed = 0;
  size_t cap = IOTP_TX_BUF(max_frame) + 1;
  unsigned char *in = read_all(&len);
  uint8_t *out = (uint8_t *)malloc(cap);
  sbuf hexout;
  sb_init(&hexout);
  if (!in || !out) return EXIT_USAGE;
  while (start <= len) {
    size_t end = start;
    size_t i;
    int blank = 1;
    while (end < len && in[end] != '\n') end++;
    line_no++;
    for (i = start; i < end; i++) {
      if (!strchr(" \t\r\v\f", in[i])) blank = 0;
    }
    if (!blank) {
      char err[256];
      size_t n = 0;
      /* Raw lines may carry more bytes than a frame. */
      size_t need = end - start + 2 > cap ? end - start + 2 : cap;
      uint8_t *buf = need > cap ? (uint8_t *)malloc(need) : out;
      if (buf && fj_encode_line((const char *)in + start, end - start, max_frame, buf, need, &n, err, sizeof err) == 0) {
        if (hex) {
          sb_hex(&hexout, buf, n);
          sb_put(&hexout, "\n", 1);
          fwrite(hexout.buf, 1, hexout.len, stdout);
          hexout.len = 0;
        } else {
          fwrite(buf, 1, n, stdout);
        }
      } else {
        failed = 1;
        fprintf(stderr, "line %lu: %s\n", (unsigned long)line_no, err);
      }
      if (buf != out) free(buf);
    }
    start = end + 1;
  }
  sb_free(&hexout);
  free(in);
  free(out);
  return failed ? EXIT_REJECTED : 0;
}

int main(int argc, char **argv) {
  const char *command = 0;
  int positionals = 0;
  int hex = 0;
  int stats = 0;
  int help = 0;
  long max_frame = IOTP_DEFAULT_MAX_FRAME;
  int i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *mf = 0;
    if (strcmp(a, "--hex") == 0) {
      hex = 1;
    } else if (strcmp(a, "--stats") == 0) {
      stats = 1;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      help = 1;
    } else if (strcmp(a, "--max-frame") == 0) {
      if (++i >= argc) {
        fprintf(stderr, "proto-tool: --max-frame needs a value\n%s", usage);
        return EXIT_USAGE;
      }
      mf = argv[i];
    } else if (strncmp(a, "--max-frame=", 12) == 0) {
      mf = a + 12;
    } else if (a[0] == '-' && a[1] != 0) {
      fprintf(stderr, "proto-tool: unknown option '%s'\n%s", a, usage);
      return EXIT_USAGE;
    } else {
      if (!command) command = a;
      positionals++;
    }
    if (mf) {
      size_t n = strlen(mf);
      size_t k;
      int ok = n >= 1 && n <= 5;
      for (k = 0; k < n; k++) ok = ok && mf[k] >= '0' && mf[k] <= '9';
      max_frame = ok ? strtol(mf, 0, 10) : -1;
      if (max_frame < (long)IOTP_MIN_FRAME || max_frame > (long)IOTP_MAX_FRAME_LIMIT) {
        fprintf(stderr, "proto-tool: --max-frame must be 13..65535\n");
        return EXIT_USAGE;
      }
    }
  }
  if (help) {
    fputs(usage, stdout);
    return 0;
  }
  if (!command || positionals > 1 || (strcmp(command, "decode") != 0 && strcmp(command, "encode") != 0)) {
    fputs(usage, stderr);
    return EXIT_USAGE;
  }
  if (strcmp(command, "decode") == 0) return decode(hex, stats, (size_t)max_frame);
  if (stats) {
    fputs("proto-tool: --stats applies to decode only\n", stderr);
    return EXIT_USAGE;
  }
  return encode(hex, (size_t)max_frame);
}
