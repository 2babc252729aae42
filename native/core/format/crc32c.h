// CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected as 0x82F63B78), the checksum that closes
// every aic payload and every predicted frame's reference check. SSE4.2's CRC32 instruction where
// the CPU has it, else slicing-by-8 tables; "123456789" -> 0xE3069283.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aic {

uint32_t crc32c(const uint8_t* data, size_t length, uint32_t crc = 0);

}  // namespace aic
