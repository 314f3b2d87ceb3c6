#pragma once
// A QR code (libqrencode) drawn with Unicode block characters, two rows of modules per line of
// text, dark on the terminal's background with the four-module quiet zone scanners need: how
// `chartkeeper user enroll-totp` shows the otpauth:// URI to an authenticator app.

#include <string>
#include <string_view>

#include "util/status.h"

namespace ck::cli {

// The lines of the drawing, each ending in '\n'. Errors: kInvalid when the text does not fit a
// QR code, kInternal when libqrencode fails otherwise.
Result<std::string> TerminalQrCode(std::string_view text);

}  // namespace ck::cli
