/* Runs the shared vectors (the JSON files in ../vectors) against the C reference, plus a few C-only
 * checks (in-place framing at exact buffer sizes, API misuse, random input). Built with
 * ASan + UBSan by `make test`. Usage: test-vectors <vectors-dir> */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor_read.h"
#include "test_support.h"

static void test_crc(const char *dir) {
  file f;
  int i;
  load(&f, dir, "crc.json");
  for (i = 0; i < f.d.t[json_get(&f.d, 0, "vectors")].size; i++) {
    int v = json_child(&f.d, json_get(&f.d, 0, "vectors"), i);
    size_t n;
    uint8_t *b = hex_of(&f.d, json_get(&f.d, v, "hex"), &n);
    double want;
    json_number(&f.d, json_get(&f.d, v, "crc"), &want);
    CHECK(iotp_crc32(b, n) == (uint32_t)want, "crc vector %d", i);
    /* Split updates give the same result. */
    CHECK(iotp_crc32_update(iotp_crc32(b, n / 2), b + n / 2, n - n / 2) == (uint32_t)want, "crc split %d", i);
    free(b);
  }
  unload(&f);
}

static void test_cobs(const char *dir) {
  file f;
  int i;
  int list;
  load(&f, dir, "cobs.json");
  list = json_get(&f.d, 0, "roundtrip");
  for (i = 0; i < f.d.t[list].size; i++) {
    int v = json_child(&f.d, list, i);
    size_t nd, ne, n, m;
    uint8_t *dec = hex_of(&f.d, json_get(&f.d, v, "decoded"), &nd);
    uint8_t *enc = hex_of(&f.d, json_get(&f.d, v, "encoded"), &ne);
    uint8_t *out = (uint8_t *)malloc(IOTP_COBS_MAX(nd) + 1);
    n = iotp_cobs_encode(dec, nd, out, IOTP_COBS_MAX(nd));
    CHECK(n == ne && memcmp(out, enc, ne) == 0, "cobs encode %d", i);
    CHECK(iotp_cobs_decode(enc, ne, out, &m) == 0 && m == nd && memcmp(out, dec, nd) == 0, "cobs decode %d", i);
    CHECK(iotp_cobs_encode(dec, nd, out, nd) == 0 || nd + 1 > IOTP_COBS_MAX(nd), "cobs small buffer %d", i);
    free(dec);
    free(enc);
    free(out);
  }
  list = json_get(&f.d, 0, "decodeOnly");
  for (i = 0; i < f.d.t[list].size; i++) {
    int v = json_child(&f.d, list, i);
    size_t nd, ne, m;
    uint8_t *dec = hex_of(&f.d, json_get(&f.d, v, "decoded"), &nd);
    uint8_t *enc = hex_of(&f.d, json_get(&f.d, v, "encoded"), &ne);
    uint8_t *out = (uint8_t *)malloc(ne);
    CHECK(iotp_cobs_decode(enc, ne, out, &m) == 0 && m == nd && memcmp(out, dec, nd) == 0, "cobs decodeOnly %d", i);
    free(dec);
    free(enc);
    free(out);
  }
  list = json_get(&f.d, 0, "fail");
  for (i = 0; i < f.d.t[list].size; i++) {
    int v = json_child(&f.d, list, i);
    size_t ne, m;
    uint8_t *enc = hex_of(&f.d, json_get(&f.d, v, "encoded"), &ne);
    uint8_t *out = (uint8_t *)malloc(ne + 1);
    long at = num_of(&f.d, json_get(&f.d, v, "at"), -1);
    CHECK(iotp_cobs_decode(enc, ne, out, &m) == (size_t)at + 1u, "cobs fail %d", i);
    free(enc);
    free(out);
  }
  unload(&f);
}

static void test_frames(const char *dir) {
  file f;
  int i;
  int list;
  load(&f, dir, "frames.json");
  list = json_get(&f.d, 0, "vectors");
  for (i = 0; i < f.d.t[list].size; i++) {
    int v = json_child(&f.d, list, i);
    int fr = json_get(&f.d, v, "frame");
    size_t max_frame = (size_t)num_of(&f.d, json_get(&f.d, v, "maxFrame"), IOTP_DEFAULT_MAX_FRAME);
    char *name = s_of(&f.d, json_get(&f.d, v, "name"));
    size_t nw, n = 0;
    uint8_t *wire = hex_of(&f.d, json_get(&f.d, v, "wire"), &nw);
    uint8_t *out = (uint8_t *)malloc(IOTP_TX_BUF(max_frame));
    char err[256] = "";
    char *expect = minify(&f.d, fr);
    collected c;
    int rc = fj_encode_line(f.d.s + f.d.t[fr].start, f.d.t[fr].end - f.d.t[fr].start, max_frame, out,
                            IOTP_TX_BUF(max_frame), &n, err, sizeof err);
    CHECK(rc == 0 && n == nw && memcmp(out, wire, nw) == 0, "frame encode '%s' %s", name, err);
    decode_stream(wire, nw, max_frame, 0, &c, 0);
    CHECK(c.count == 1 && strncmp(c.lines[0], "{\"offset\":0,", 12) == 0 && strcmp(c.lines[0] + 12, expect + 1) == 0,
          "frame decode '%s': %s", name, c.count ? c.lines[0] : "(none)");
    /* The exact buffer: a frame built in IOTP_TX_BUF(length) bytes fits. */
    {
      size_t length = (size_t)num_of(&f.d, json_get(&f.d, v, "length"), 0);
      uint8_t *tight = (uint8_t *)malloc(IOTP_TX_BUF(length));
      rc = fj_encode_line(f.d.s + f.d.t[fr].start, f.d.t[fr].end - f.d.t[fr].start, max_frame, tight,
                          IOTP_TX_BUF(length), &n, err, sizeof err);
      CHECK(rc == 0 && n == nw && memcmp(tight, wire, nw) == 0, "frame in tight buffer '%s'", name);
      free(tight);
    }
    free_collected(&c);
    free(expect);
    free(out);
    free(wire);
    free(name);
  }
  unload(&f);
}

static void test_payloads(const char *dir) {
  file f;
  int i;
  int list;
  int pass;
  load(&f, dir, "payloads.json");
  for (pass = 0; pass < 2; pass++) {
    list = json_get(&f.d, 0, pass == 0 ? "valid" : "decodeOnly");
    for (i = 0; i < f.d.t[list].size; i++) {
      int v = json_child(&f.d, list, i);
      char *name = s_of(&f.d, json_get(&f.d, v, "name"));
      char *type = s_of(&f.d, json_get(&f.d, v, "type"));
      int t = fj_type_code(type, strlen(type));
      size_t n;
      uint8_t *hex = hex_of(&f.d, json_get(&f.d, v, "hex"), &n);
      char *expect = minify(&f.d, json_get(&f.d, v, "body"));
      iotp_message m;
      iotp_fail why;
      sbuf b;
      if (pass == 0) {
        uint8_t buf[2048];
        iotp_writer w;
        char err[160] = "";
        iotp_w_init(&w, buf, sizeof buf);
        CHECK(fj_encode_body(&f.d, json_get(&f.d, v, "body"), t, &w, err, sizeof err) == 0 && w.len == n &&
                  memcmp(buf, hex, n) == 0,
              "payload encode '%s' %s", name, err);
      }
      sb_init(&b);
      CHECK(iotp_decode_payload((uint8_t)t, hex, n, &m, &why) == IOTP_OK, "payload decode '%s'", name);
      fj_body(&b, &m);
      CHECK(strcmp(b.buf, expect) == 0, "payload body '%s': %s", name, b.buf);
      sb_free(&b);
      free(expect);
      free(hex);
      free(type);
      free(name);
    }
  }
  list = json_get(&f.d, 0, "fail");
  for (i = 0; i < f.d.t[list].size; i++) {
    int v = json_child(&f.d, list, i);
    char *name = s_of(&f.d, json_get(&f.d, v, "name"));
    char *type = s_of(&f.d, json_get(&f.d, v, "type"));
    char *error = s_of(&f.d, json_get(&f.d, v, "error"));
    char *reason = s_of(&f.d, json_get(&f.d, v, "reason"));
    size_t n;
    uint8_t *hex = hex_of(&f.d, json_get(&f.d, v, "hex"), &n);
    iotp_message m;
    iotp_fail why;
    char got[160];
    int code = iotp_decode_payload((uint8_t)fj_type_code(type, strlen(type)), hex, n, &m, &why);
    iotp_format_reason(&why, got, sizeof got);
    CHECK(code != IOTP_OK && strcmp(iotp_code_name(code), error) == 0 && strcmp(got, reason) == 0,
          "payload fail '%s': got %s '%s'", name, iotp_code_name(code), code ? got : "");
    free(hex);
    free(reason);
    free(error);
    free(type);
    free(name);
  }
  unload(&f);
}

static void test_streams(const char *dir) {
  static const size_t chunks[] = {0, 1, 2, 7, 255};
  file f;
  int i;
  int list;
  load(&f, dir, "streams.json");
  list = json_get(&f.d, 0, "vectors");
  for (i = 0; i < f.d.t[list].size; i++) {
    int v = json_child(&f.d, list, i);
    int outputs = json_get(&f.d, v, "output");
    char *name = s_of(&f.d, json_get(&f.d, v, "name"));
    size_t max_frame = (size_t)num_of(&f.d, json_get(&f.d, v, "maxFrame"), IOTP_DEFAULT_MAX_FRAME);
    char *stats = minify(&f.d, json_get(&f.d, v, "stats"));
    size_t n;
    size_t k;
    uint8_t *in = hex_of(&f.d, json_get(&f.d, v, "hex"), &n);
    for (k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
      collected c;
      iotp_counters counters;
      sbuf b;
      int j;
      decode_stream(in, n, max_frame, chunks[k], &c, &counters);
      CHECK(c.count == f.d.t[outputs].size, "stream '%s' chunk %lu: %d lines", name, (unsigned long)chunks[k], c.count);
      for (j = 0; j < c.count && j < f.d.t[outputs].size; j++) {
        char *want = minify(&f.d, json_child(&f.d, outputs, j));
        CHECK(strcmp(c.lines[j], want) == 0, "stream '%s' line %d:\n  got  %s\n  want %s", name, j, c.lines[j], want);
        free(want);
      }
      sb_init(&b);
      fj_stats(&b, &counters);
      CHECK(strncmp(b.buf, "{\"stats\":", 9) == 0 && strncmp(b.buf + 9, stats, strlen(stats)) == 0,
            "stream '%s' stats:\n  got  %s\n  want %s", name, b.buf, stats);
      sb_free(&b);
      free_collected(&c);
    }
    free(in);
    free(stats);
    free(name);
  }
  unload(&f);
}

static void test_encode_fail(const char *dir) {
  file f;
  int i;
  int list;
  load(&f, dir, "encode-fail.json");
  list = json_get(&f.d, 0, "vectors");
  for (i = 0; i < f.d.t[list].size; i++) {
    int v = json_child(&f.d, list, i);
    char *name = s_of(&f.d, json_get(&f.d, v, "name"));
    char *line = s_of(&f.d, json_get(&f.d, v, "line"));
    uint8_t out[600];
    size_t n = 0;
    char err[256];
    CHECK(fj_encode_line(line, strlen(line), IOTP_DEFAULT_MAX_FRAME, out, sizeof out, &n, err, sizeof err) != 0,
          "encode-fail '%s' was encoded", name);
    free(line);
    free(name);
  }
  unload(&f);
}

/* The device API directly: builder, sorted readings, decoder limits. */
static void test_api(void) {
  uint8_t tx[IOTP_TX_BUF(IOTP_DEFAULT_MAX_FRAME)];
  uint8_t rx[IOTP_RX_BUF(IOTP_DEFAULT_MAX_FRAME)];
  iotp_header h = {1, 0, IOTP_DATA, 5, 0xCAFEu};
  iotp_reading rs[2] = {{2, 1}, {1, 2}};
  iotp_message m;
  iotp_decoder d;
  collected c;
  memset(&m, 0, sizeof m);
  m.type = IOTP_DATA;
  m.u.data.items = rs;
  m.u.data.count = 2;
  CHECK(iotp_encode_frame(&h, &m, tx, sizeof tx) == 0, "unsorted readings must be refused");
  rs[0].alias = 1;
  rs[1].alias = 2;
  CHECK(iotp_encode_frame(&h, &m, tx, sizeof tx) > 0, "sorted readings encode");
  CHECK(iotp_encode_frame(&h, &m, tx, 12) == 0, "tiny buffer refused");
  CHECK(iotp_decoder_init(&d, rx, sizeof rx - 1, IOTP_DEFAULT_MAX_FRAME, 0, 0) != 0, "small rx buffer refused");
  CHECK(iotp_decoder_init(&d, rx, sizeof rx, 12, 0, 0) != 0, "max frame below 13 refused");
  {
    size_t n = iotp_encode_frame(&h, &m, tx, sizeof tx);
    iotp_reading r;
    decode_stream(tx, n, IOTP_DEFAULT_MAX_FRAME, 0, &c, 0);
    CHECK(c.count == 1 && strstr(c.lines[0], "\"readings\":[[1,1],[2,2]]") != 0, "device frame decodes");
    free_collected(&c);
    (void)r;
  }
}

/* Acknowledgements: the same cases as test/decoder.test.ts. */
static void test_ack(void) {
  static const uint16_t seqs[] = {0, 1, 2, 5, 7, 3, 4, 6};
  static const int after[] = {2, 4, 6, 7};
  static const uint16_t cumulative[] = {2, 2, 5, 7};
  static const uint32_t selective[] = {0, 0x14, 0x2, 0};
  iotp_seq_tracker t;
  iotp_counters c;
  iotp_ack a;
  uint16_t missing;
  int i;
  int k = 0;
  memset(&t, 0, sizeof t);
  memset(&c, 0, sizeof c);
  CHECK(iotp_seq_ack(&t, &a) == -1, "no ack before the first frame");
  for (i = 0; i < 8; i++) {
    (void)iotp_seq_track(&t, 9, seqs[i], &c, &missing);
    if (k < 4 && i + 1 == after[k] + 1) {
      CHECK(iotp_seq_ack(&t, &a) == 0 && a.session == 9 && a.cumulative == cumulative[k] && a.selective == selective[k] &&
                a.has_selective == (selective[k] != 0),
            "ack %d: cumulative %u selective %lx", k, (unsigned)a.cumulative, (unsigned long)a.selective);
      k++;
    }
  }
  (void)iotp_seq_track(&t, 3, 1, &c, &missing);
  (void)iotp_seq_track(&t, 3, 3, &c, &missing);
  CHECK(iotp_seq_ack(&t, &a) == 0 && a.cumulative == 1 && a.selective == 2, "ack after a late start");
}

/* Random and mutated input: nothing may crash or trip the sanitizers. */
static void test_random(void) {
  static uint8_t buf[1 << 16];
  uint32_t x = 12345u;
  size_t i;
  int round;
  for (round = 0; round < 40; round++) {
    collected c;
    size_t n = 1000u + (size_t)round * 1500u;
    for (i = 0; i < n; i++) {
      x = x * 1103515245u + 12345u;
      /* Mostly small values so that COBS codes, CBOR heads and delimiters all occur. */
      buf[i] = (uint8_t)((x >> 16) % (round % 2 ? 256u : 24u));
    }
    decode_stream(buf, n, round % 3 ? IOTP_DEFAULT_MAX_FRAME : 2000u, (size_t)(round % 5), &c, 0);
    free_collected(&c);
  }
  for (round = 0; round < 3000; round++) {
    uint8_t payload[64];
    iotp_message m;
    iotp_fail why;
    for (i = 0; i < sizeof payload; i++) {
      x = x * 1103515245u + 12345u;
      payload[i] = (uint8_t)(x >> 16);
    }
    payload[0] = (uint8_t)(0xA0u | (round % 4));
    (void)iotp_decode_payload((uint8_t)(1 + round % 10), payload, (size_t)(round % 64), &m, &why);
  }
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "../vectors";
  test_crc(dir);
  test_cobs(dir);
  test_frames(dir);
  test_payloads(dir);
  test_streams(dir);
  test_encode_fail(dir);
  test_api();
  test_ack();
  test_random();
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
