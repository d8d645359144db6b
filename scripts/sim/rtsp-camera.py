#!/usr/bin/python3
"""RTSP test camera for the sim board, built on gst-rtsp-server.

Serves a moving test pattern with a clock overlay on one or more mounts, like
an IP camera on the LAN. Run it with the system Python (/usr/bin/python3),
which has the GStreamer introspection bindings (python3-gi, python3-gst-1.0,
gir1.2-gst-rtsp-server-1.0).

    /usr/bin/python3 scripts/sim/rtsp-camera.py --port 8554 --mount /cam1 --sub

Once listening it prints one line to stdout and flushes it:

    READY rtsp://127.0.0.1:8554/cam1 rtsp://127.0.0.1:8554/cam1/sub

and then runs until SIGTERM or SIGINT, on which it exits with status 0.
Errors go to stderr with a non-zero exit status.
"""

import argparse
import ctypes
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

# AAC encoders in the order we try them: voaacenc is in Debian's
# gstreamer1.0-plugins-bad, avenc_aac in gstreamer1.0-libav.
AAC_ENCODERS = ("voaacenc", "avenc_aac", "fdkaacenc")

SUB_WIDTH, SUB_HEIGHT = 352, 288


def die(msg):
    print(f"rtsp-camera: error: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def warn(msg):
    print(f"rtsp-camera: warning: {msg}", file=sys.stderr, flush=True)


def die_with_parent():
    """Ask the kernel to SIGTERM us when the process that started us exits."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() == 1:  # the parent already died before prctl
            sys.exit(0)
    except (OSError, AttributeError):
        pass


def parse_args(argv):
    p = argparse.ArgumentParser(description="GStreamer RTSP test camera")
    p.add_argument("--port", type=int, default=8554, help="TCP port, 0 picks a free one (default 8554)")
    p.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--mount", action="append", dest="mounts", metavar="PATH",
                   help="mount point, repeatable (default /cam1)")
    p.add_argument("--codec", choices=("h264", "h265"), default="h264")
    p.add_argument("--audio", action="store_true", help="add an AAC audio stream (pay1)")
    p.add_argument("--user", help="require RTSP Digest authentication with this user")
    pw = p.add_mutually_exclusive_group()
    pw.add_argument("--password", help="password for --user (visible in ps; prefer --password-env)")
    pw.add_argument("--password-env", action="store_true",
                    help="read the password from the RTSP_CAMERA_PASSWORD environment variable")
    p.add_argument("--width", type=int, default=704)
    p.add_argument("--height", type=int, default=576)
    p.add_argument("--fps", type=int, default=25)
    p.add_argument("--bitrate", type=int, default=1024, help="video bitrate in kbit/s (default 1024)")
    p.add_argument("--pattern", choices=("ball", "snow"), default="ball",
                   help="ball: a bouncing ball (compresses far below --bitrate); snow: noise, "
                        "which fills the bitrate like a busy or grainy scene (default ball)")
    p.add_argument("--file", metavar="MP4",
                   help="serve this recorded MP4 (H.264 or H.265, video only) in real time instead of "
                        "encoding live: each client gets its own playback from the start, and the "
                        "camera costs almost no CPU (benchmarks with many cameras)")
    p.add_argument("--record", metavar="MP4",
                   help="encode --seconds of the live stream (--pattern, --width, ...) into this MP4 "
                        "for --file, print DONE and exit")
    p.add_argument("--seconds", type=int, default=60, help="length of --record (default 60)")
    p.add_argument("--sub", action="store_true",
                   help=f"also serve <mount>/sub at {SUB_WIDTH}x{SUB_HEIGHT}")
    args = p.parse_args(argv)

    args.mounts = args.mounts or ["/cam1"]
    for m in args.mounts:
        if not m.startswith("/") or m == "/" or " " in m:
            p.error(f"bad --mount {m!r}: must look like /cam1")
    if len(set(args.mounts)) != len(args.mounts):
        p.error("duplicate --mount")
    if not 0 <= args.port <= 65535:
        p.error("--port must be 0..65535")
    if args.file and (args.audio or args.sub or args.record):
        p.error("--file serves the recorded video alone: no --audio, --sub or --record")
    if args.file and not os.path.isfile(args.file):
        p.error(f"--file {args.file!r}: no such file")
    for name in ("width", "height", "fps", "bitrate", "seconds"):
        if getattr(args, name) <= 0:
            p.error(f"--{name} must be positive")

    args.auth_password = None
    if args.password_env:
        args.auth_password = os.environ.get("RTSP_CAMERA_PASSWORD")
        if args.auth_password is None:
            p.error("--password-env given but RTSP_CAMERA_PASSWORD is not set")
    elif args.password is not None:
        args.auth_password = args.password
    if (args.user is None) != (args.auth_password is None):
        p.error("--user needs --password or --password-env, and the other way round")
    return args


def find_aac_encoder():
    for name in AAC_ENCODERS:
        if Gst.ElementFactory.find(name) is not None:
            return name
    return None


def video_launch(args, width, height, bitrate):
    if args.codec == "h264":
        enc = (f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={args.fps * 2} "
               f"bitrate={bitrate} ! rtph264pay name=pay0 pt=96 config-interval=1")
    else:
        enc = (f"x265enc tune=zerolatency speed-preset=ultrafast key-int-max={args.fps * 2} "
               f"bitrate={bitrate} log-level=error ! rtph265pay name=pay0 pt=96 config-interval=1")
    return (f"videotestsrc is-live=true pattern={args.pattern} "
            f"! video/x-raw,width={width},height={height},framerate={args.fps}/1 "
            f"! clockoverlay ! videoconvert ! {enc}")


def file_launch(args):
    # clocksync paces the demuxed frames on the pipeline clock, as a camera
    # sends them, whatever the RTSP sinks' own sync setting.
    parse, pay = ("h264parse", "rtph264pay") if args.codec == "h264" else ("h265parse", "rtph265pay")
    location = args.file.replace("\\", "\\\\").replace('"', '\\"')
    return (f'filesrc location="{location}" ! qtdemux ! {parse} ! clocksync '
            f"! {pay} name=pay0 pt=96 config-interval=1")


def record(args):
    """Encode --seconds of the live pattern into an MP4 for --file, without the RTP payloader."""
    launch = video_launch(args, args.width, args.height, args.bitrate)
    launch = launch.split(" ! rtph26")[0].replace("is-live=true", f"num-buffers={args.seconds * args.fps}")
    parse = "h264parse" if args.codec == "h264" else "h265parse"
    location = args.record.replace("\\", "\\\\").replace('"', '\\"')
    pipeline = Gst.parse_launch(f'{launch} ! {parse} ! mp4mux ! filesink location="{location}"')
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(Gst.CLOCK_TIME_NONE, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if msg.type == Gst.MessageType.ERROR:
        err, _ = msg.parse_error()
        die(f"recording {args.record}: {err.message}")
    print("DONE " + args.record, flush=True)
    return 0


def audio_launch(encoder):
    bitrate = "bitrate=64000 " if encoder in ("voaacenc", "avenc_aac") else ""
    return (f"audiotestsrc is-live=true wave=sine volume=0.2 "
            f"! audioconvert ! audioresample ! audio/x-raw,rate=48000,channels=1 "
            f"! {encoder} {bitrate}! aacparse ! rtpmp4gpay name=pay1 pt=97")


def make_factory(launch, permissions, shared=True):
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(f"( {launch} )")
    factory.set_shared(shared)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.UDP | GstRtsp.RTSPLowerTrans.TCP)
    if permissions is not None:
        factory.set_permissions(permissions)
    return factory


def check_elements(args, aac):
    if args.file:
        needed = ["filesrc", "qtdemux", "clocksync"]
        needed += ["h264parse", "rtph264pay"] if args.codec == "h264" else ["h265parse", "rtph265pay"]
    else:
        needed = ["videotestsrc", "clockoverlay", "videoconvert"]
        needed += ["x264enc", "rtph264pay"] if args.codec == "h264" else ["x265enc", "rtph265pay"]
    if args.record:
        needed += ["mp4mux", "filesink", "h264parse" if args.codec == "h264" else "h265parse"]
    if aac:
        needed += ["audiotestsrc", "audioconvert", "audioresample", aac, "aacparse", "rtpmp4gpay"]
    missing = [e for e in needed if Gst.ElementFactory.find(e) is None]
    if missing:
        die(f"GStreamer elements not installed: {' '.join(missing)} (see scripts/install-deps.sh)")


def main(argv):
    args = parse_args(argv)
    die_with_parent()
    Gst.init(None)

    aac = None
    if args.audio:
        aac = find_aac_encoder()
        if aac is None:
            warn(f"no AAC encoder ({', '.join(AAC_ENCODERS)}) installed, serving video only")
    check_elements(args, aac)
    if args.record:
        return record(args)

    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))

    permissions = None
    if args.user is not None:
        auth = GstRtspServer.RTSPAuth()
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "viewer")
        auth.add_digest(args.user, args.auth_password, token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role("viewer", "media.factory.access", True)
        permissions.add_permission_for_role("viewer", "media.factory.construct", True)

    streams = []  # (path, launch)
    for m in args.mounts:
        if args.file:
            streams.append((m, file_launch(args)))
            continue
        main_launch = video_launch(args, args.width, args.height, args.bitrate)
        if aac:
            main_launch += " " + audio_launch(aac)
        streams.append((m, main_launch))
        if args.sub:
            sub_bitrate = max(64, args.bitrate // 4)
            streams.append((m.rstrip("/") + "/sub", video_launch(args, SUB_WIDTH, SUB_HEIGHT, sub_bitrate)))

    mounts = server.get_mount_points()
    for path, launch in streams:
        # A recorded file is played from its start for each client, as a camera of its own would send.
        mounts.add_factory(path, make_factory(launch, permissions, shared=not args.file))

    if server.attach(None) == 0:
        die(f"cannot listen on {args.address}:{args.port} (address already in use?)")
    port = server.get_bound_port()

    loop = GLib.MainLoop()

    def on_signal(*_):
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, on_signal)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, on_signal)

    host = f"[{args.address}]" if ":" in args.address else args.address
    urls = [f"rtsp://{host}:{port}{path}" for path, _ in streams]
    print("READY " + " ".join(urls), flush=True)

    loop.run()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:
        sys.exit(0)
