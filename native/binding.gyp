{
  "targets": [
    {
      "target_name": "agentphone_pty",
      "sources": ["src/pty.c"],
      "libraries": ["-lutil"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
