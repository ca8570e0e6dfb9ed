{
  "targets": [
    {
      "target_name": "af_packet",
      "sources": ["af_packet.c", "addon_util.c", "packet_link.c", "responder_core.c"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "defines": ["NAPI_VERSION=8"],
      "libraries": ["-lpthread", "-lm"]
    }
  ]
}
