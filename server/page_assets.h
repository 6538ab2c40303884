// The web page's files (server/page/), compiled into droverd at build time by
// server/embed_page.cmake, so the page needs no install path and no network.
#pragma once

#include <span>
#include <string_view>

namespace drover {

struct PageAsset {
  std::string_view name;          // "index.html", "app.js"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view body;
};

// Every file of the page, in server/page/'s order; stable for the process's life.
std::span<const PageAsset> PageAssets();

}  // namespace drover
