// The whole codec API in one include.
#pragma once

#include "tcpchat/decode.hpp"
#include "tcpchat/encode.hpp"
#include "tcpchat/error.hpp"
#include "tcpchat/limits.hpp"
#include "tcpchat/message.hpp"
#include "tcpchat/stream_decoder.hpp"
#include "tcpchat/version.hpp"
