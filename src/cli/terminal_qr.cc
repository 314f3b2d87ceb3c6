#include "cli/terminal_qr.h"

#include <qrencode.h>

#include <cerrno>
#include <memory>

namespace ck::cli {

Result<std::string> TerminalQrCode(std::string_view text) {
  const std::string terminated(text);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(QRcode_encodeString(terminated.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1),
                                                       &QRcode_free);
  if (!code) {
    if (errno == ERANGE) return Err(Status::Invalid("the text is too long for a QR code"));
    return Err(Status::Internal("the QR code could not be made"));
  }
  constexpr int kQuiet = 4;
  const int width = code->width;
  // Light modules are drawn as ink (a terminal is light text on a dark ground), so the code
  // reads as dark modules on a light field, as scanners expect.
  auto dark = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= width || y >= width) return false;
    return (code->data[y * width + x] & 1) != 0;
  };
  std::string out;
  for (int y = -kQuiet; y < width + kQuiet; y += 2) {
    for (int x = -kQuiet; x < width + kQuiet; ++x) {
      const bool top_light = !dark(x, y);
      const bool bottom_light = y + 1 < width + kQuiet && !dark(x, y + 1);
      out += top_light && bottom_light ? "\u2588" : top_light ? "\u2580" : bottom_light ? "\u2584" : " ";
    }
    out += '\n';
  }
  return out;
}

}  // namespace ck::cli
