// I420 (planar YUV 4:2:0) <-> RGB for the image codec, whose networks see RGB. Conversion is
// BT.601 "limited" (studio) range, what Y4M files and most camera and WebRTC pipelines carry:
// Y in 16..235, U and V in 16..240. Chroma planes are ceil(width/2) x ceil(height/2).
#pragma once

#include <cstddef>
#include <cstdint>

namespace aic::yuv {

inline size_t i420Size(int width, int height) {
  const size_t cw = (static_cast<size_t>(width) + 1) / 2, ch = (static_cast<size_t>(height) + 1) / 2;
  return static_cast<size_t>(width) * height + 2 * cw * ch;
}

// The RGB value (each in [0, 1]) of pixel (x, y) of an I420 frame.
void i420PixelToRgb(const uint8_t* frame, int width, int height, int x, int y, float rgb[3]);

// RGB float planes (plane stride `planeStride` floats between R, G and B; row stride `rowStride`;
// values in [0, 1]) cropped to width x height -> an I420 frame. Each chroma sample is the
// conversion of the average RGB of its 2x2 block (edge blocks use the pixels that exist).
void rgbPlanesToI420(const float* planes, size_t planeStride, int rowStride, int width, int height, uint8_t* out);

// Interleaved 8-bit RGB (3) or RGBA (4, alpha ignored) -> I420, and back (alpha written as 255).
void rgbToI420(const uint8_t* rgb, int channels, int width, int height, uint8_t* out);
void i420ToRgb(const uint8_t* frame, int width, int height, uint8_t* rgb, int channels);

// The same BT.601 limited-range conversions between I420 and planar 8-bit R, G, B, in 16-bit
// fixed point: integer arithmetic only, so that every machine gives the same bytes (a predicted
// frame's receiver converts its exact RGB reconstruction to I420, and its sender scores that same
// I420 before sending). They agree with the float conversions above within one code value.
// Chroma: nearest (each chroma sample covers its 2x2 block) to RGB; the average of the block's
// 1, 2 or 4 pixels back, as rgbPlanesToI420() does.
void i420ToRgbPlanesFixed(const uint8_t* frame, int width, int height, uint8_t* const planes[3]);
// As i420ToRgbPlanesFixed(), with chroma upsampled bilinearly (each sample sited at the centre of
// its 2x2 block, weights 9:3:3:1): smooth colour instead of 2x2 steps, which a predicted frame's
// sender codes for fewer bits; the 2x2 means come back within two code values of the samples.
// Rows [y0, y1) only (y1 < 0: to the last), so that shares of a frame can run on several threads.
void i420ToRgbPlanesSmooth(const uint8_t* frame, int width, int height, uint8_t* const planes[3], int y0 = 0, int y1 = -1);
void rgbPlanesToI420Fixed(const uint8_t* const planes[3], int width, int height, uint8_t* out);
// Its two halves: the Y rows [y0, y1) (a reconstruction's rows as they become final), and U and V.
void rgbPlanesToI420LumaRows(const uint8_t* const planes[3], int width, int y0, int y1, uint8_t* out);
void rgbPlanesToI420Chroma(const uint8_t* const planes[3], int width, int height, uint8_t* out);

}  // namespace aic::yuv
