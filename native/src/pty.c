/*
 * openpty() for the virtual modem: a real pseudo-terminal pair, so the driver reaches a
 * virtual modem through the same serialport bindings and termios path as a USB modem.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <node_api.h>

static napi_value throw_errno(napi_env env, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
  napi_throw_error(env, "EPTY", msg);
  return NULL;
}

/* openPty(): { master, slave, path }. Both ends are raw, close-on-exec; master is non-blocking. */
static napi_value open_pty(napi_env env, napi_callback_info info) {
  (void)info;
  int master = -1, slave = -1;
  char name[128];
  struct termios tio;
  if (openpty(&master, &slave, name, NULL, NULL) != 0) return throw_errno(env, "openpty");
  if (tcgetattr(slave, &tio) == 0) {
    cfmakeraw(&tio);
    cfsetispeed(&tio, B115200);
    cfsetospeed(&tio, B115200);
    tcsetattr(slave, TCSANOW, &tio);
  }
  fcntl(master, F_SETFD, FD_CLOEXEC);
  fcntl(slave, F_SETFD, FD_CLOEXEC);
  int fl = fcntl(master, F_GETFL);
  if (fl >= 0) fcntl(master, F_SETFL, fl | O_NONBLOCK);

  napi_value result, v;
  napi_create_object(env, &result);
  napi_create_int32(env, master, &v);
  napi_set_named_property(env, result, "master", v);
  napi_create_int32(env, slave, &v);
  napi_set_named_property(env, result, "slave", v);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, result, "path", v);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "openPty", NAPI_AUTO_LENGTH, open_pty, NULL, &fn);
  napi_set_named_property(env, exports, "openPty", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
