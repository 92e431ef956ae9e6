export const MAIN_HELP = `iot-sim: a virtual sensor fleet for demos, tests, benchmarks and detection quality.

Usage:
  iot-sim mqtt   [options]   devices publishing JSON over MQTT (the protocol's MQTT mapping)
  iot-sim serial [options]   devices speaking the binary protocol over serial lines (ptys)
  iot-sim modbus [options]   devices as Modbus RTU (serial line) / TCP servers, one unit id
                             each, for the gateway to poll; --print-config: its config
  iot-sim replay [options]   a CSV file replayed as one device, over MQTT or serial
  iot-sim generate [options] readings with ground truth into a CSV / JSON lines file, as
                             fast as possible (for iot-hub backtest and detection quality)

  iot-sim <command> --help   the options of a command

Progress goes to stderr once a second (on a terminal, or with --progress); a JSON summary
(sent, acknowledged, failed, ...) goes to stdout at the end. Exit codes: 0 all readings
acknowledged, 1 some failed (or the transport could not start), 2 usage error (a flag, an
anomaly spec, a fleet or rules file). Ctrl-C stops taking readings, waits for outstanding
acknowledgements and prints the summary; a second Ctrl-C exits at once.
`;

export const FLEET = `Fleet:
      --fleet FILE          fleet YAML (profiles, counts, sites, rates, behaviours, anomalies);
                            flags override its keys
      --devices N           number of devices                            (default 3)
      --profile NAMES       climate, vibration, power, air-quality; a comma list alternates
                                                                         (default climate)
      --sites NAMES         comma list of sites: devices go round-robin, ids become
                            <prefix><site>-001, each site has its own climate
      --prefix TEXT         device id prefix                             (default sim-)
      --seed N              seed: the same seed gives the same readings  (default 1)
      --firmware TEXT       firmware version announced in birth / hello  (default iot-sim/0.1.0)

Rate and bounds:
      --interval D          time between readings of one device; bare numbers are ms; 0 means
                            as fast as acknowledgements allow            (default 1000)
      --rate R              total readings per second (sets the interval of every device)
      --count N             readings per device, then stop               (default: unbounded)
      --duration D          stop after D of simulated time; bare numbers are seconds
      --start TIME          simulated start (ISO-8601 or epoch ms)       (default: now)
      --speed N             simulated time runs N times as fast as the wall clock
      --as-fast-as-possible no waiting: only acknowledgements pace the run
      --window N            readings in flight per device (unacknowledged) before it waits
                                                                         (default 100; serial 32)
      --drain-timeout D     wait this long for outstanding acknowledgements at the end (30s)

Anomalies (ground truth for detection quality):
      --anomalies SPEC|FILE rules (repeatable): "TYPE[:key=value,...][;TYPE...]" or a YAML file
                            with a list under "anomalies:". Types: spike, level-shift, drift,
                            stuck, dropout, noise-burst. Keys: devices=GLOB|GLOB, metrics=A|B,
                            at=TIME (once) or every=D (repeated), after=D, duration=D,
                            magnitude=X, count=N, fraction=0..1.
                            e.g. "spike:metrics=temperature,every=10m,magnitude=6"
      --labels FILE         write the ground truth: CSV device,metric,type,start,end (epoch ms)
                            or JSON lines when FILE ends in .jsonl

Firmware behaviours:
      --reboot-every D      mean time between reboots (new session, seq from 0, introduced again)
      --silence-every D     mean time between silences, each --silence-for D long (default 1m)
      --burst-every D       mean time between bursts of --burst-size N readings held back and
                            sent back to back (default 10)
      --clock-skew D        each device's clock is off by up to ± D
      --clock-drift PPM     and runs fast or slow by up to ± PPM parts per million
      --jitter D            each reading taken up to ± D off its schedule

Output:
      --quiet               no progress line
      --progress            a progress line even when stderr is not a terminal
  -h, --help                this help
`;

export const MQTT_HELP = `iot-sim mqtt: devices publishing over MQTT, one connection per device.

Each device connects with client id = its id and the last will "offline" on
iot/v1/{id}/state (retained), publishes its birth (retained) and "online", then JSON readings at
QoS 1 on iot/v1/{id}/data. A reading is acknowledged when its PUBACK arrives. A reboot drops the
connection without DISCONNECT (the broker sends the will) and comes back with a new session.

Usage: iot-sim mqtt [options]

Broker:
      --url URL             broker URL, mqtt:// or mqtts://           (default mqtt://127.0.0.1:1883)
      --qos N               0, 1 or 2                                  (default 1)
      --password TEXT       log in with a password (or IOT_SIM_PASSWORD); the username is the
                            device id unless --username is given
      --username TEXT       username; {id} is replaced by the device id
      --ca FILE             CA certificate (PEM) of the broker, for mqtts://
      --cert FILE, --key FILE
                            client certificate and key, {id} replaced (certificate auth)

${FLEET}
Example: 1000 readings/s from 50 devices for 5 minutes, with spikes and a ground-truth file
  iot-sim mqtt --url mqtt://127.0.0.1:1883 --devices 50 --rate 1000 --duration 5m \\
    --anomalies 'spike:every=1m' --labels truth.csv
`;

export const SERIAL_HELP = `iot-sim serial: devices speaking the binary protocol over serial lines.

Each device has its own line: a serial port, or one end of a pseudo-terminal pair made with
  socat -d -d pty,raw,echo=0,link=/tmp/gw pty,raw,echo=0,link=/tmp/dev
(the gateway opens /tmp/gw, iot-sim opens /tmp/dev). A device writes 0x00, hello and describe,
then data frames with ACK_REQUEST; it reads the gateway's acks from the same line, counts a
reading as acknowledged when an ack covers its seq, and retransmits unacknowledged frames with
the RETRANSMIT flag after 250 ms, doubling up to 4 s. It introduces itself again when the
gateway says so (a hello from a new gateway session, error "not ready"). A real port must be
configured first (stty -F /dev/ttyUSB0 115200 raw -echo).

Usage: iot-sim serial --serial PATH[,PATH...] [options]

Lines:
      --serial PATHS        one path per device (repeatable, or a comma list)
      --device ID           the device id, with a single path          (default <prefix>001)
      --baud N              pace writes to N bits/s (10 bits a byte)    (default: unpaced)
      --no-ack              no ACK_REQUEST and no retransmission; a reading counts as
                            acknowledged once written (also: write a capture to a plain file)
      --clock MODE          rtc: readings carry time (with the clock skew); uptime: only uptime,
                            the gateway maps it; sync: timeRequest, then time   (default rtc)
      --ack-timeout D       first retransmission timeout                (default 250ms)
      --max-kept N          unacknowledged frames kept; beyond, the oldest is dropped and
                            error 7 (overflow) is sent                  (default 64)

Line noise:
      --garbage P           probability of random bytes on the line before a frame
      --corrupt P           probability of one flipped bit in a frame
      --drop P              probability of a frame lost

${FLEET}`;

export const REPLAY_HELP = `iot-sim replay: a CSV file replayed as one device.

The file has a header "timestamp,value" or "timestamp,<metric1>,<metric2>,...", then one
reading per line; timestamps are ISO-8601 (UTC unless an offset is given) or epoch ms; an empty
cell is a missing reading. A malformed line is reported on stderr with its number, skipped,
and counted in the summary ("malformed"). Readings keep the file's timestamps (unless
--retime) and are sent at the file's pace divided by --speed.

Usage: iot-sim replay --csv FILE --device ID [options]

      --csv FILE            the file to replay
      --device ID           the device id it is sent as
      --metric NAME         name of the "value" column's metric          (default value)
      --unit U              unit of every metric, or NAME=U,NAME=U
      --scale=N             round to 10^N (and the serial raw scale), or NAME=N,... (serial
                            default -3; JSON keeps the file's digits unless given); write
                            --scale=-2, not --scale -2, for a negative scale
      --speed N             N times as fast as the timestamps say        (default 1)
      --as-fast-as-possible no waiting between readings
      --retime              stamp the first reading now, the others shifted alike
      --count N             at most N readings
      --duration D          only the first D of the file's time
      --seed N              seed for the session id and injected anomalies (default 1)
      --anomalies SPEC|FILE, --labels FILE
                            inject anomalies and write the ground truth, as for mqtt (give
                            magnitude=..., the file's typical deviation is not known)
      --window N, --drain-timeout D, --firmware TEXT, --quiet, --progress
  -h, --help                this help

Transport: MQTT by default (--url, --qos, --username, --password, --ca, --cert, --key as for
"iot-sim mqtt"), or serial with --serial PATH (and --baud, --no-ack, --clock, --garbage,
--corrupt, --drop, --ack-timeout, --max-kept as for "iot-sim serial").
`;

export const GENERATE_HELP = `iot-sim generate: the fleet's readings into a file, as fast as possible.

The same devices, signals, anomalies and behaviours as "iot-sim mqtt", in simulated time
without waiting, written as CSV (one row per metric: timestamp,device,metric,value,unit,truth
where truth is the type of the injected anomaly covering that reading, empty otherwise, and
types joined by | where windows overlap) or
JSON lines (the protocol's JSON data form plus "deviceId"). Rows are in time order per device.
A single series feeds "iot-hub backtest" directly (it reads the timestamp and value columns and
keeps the others), so its anomaly flags can be compared with the truth column.

Usage: iot-sim generate (--count N | --duration D) [options]

      --out FILE            write here (default: stdout; the summary then goes to stderr)
      --format F            csv or jsonl                                 (default csv)
      --metric NAMES        only these metrics (comma list)
      --count, --duration, --start, --seed, --anomalies, --labels and the fleet and behaviour
      options as for "iot-sim mqtt" (see iot-sim mqtt --help)

Example: a week of one temperature series with spikes and level shifts, scored by the hub
  iot-sim generate --devices 1 --metric temperature --interval 1m --duration 7d \\
    --start 2026-01-05T00:00:00Z --seed 3 \\
    --anomalies 'spike:every=6h;level-shift:every=2d,duration=3h' > week.csv
  iot-hub backtest --detector robust-zscore < week.csv > scored.csv
`;
