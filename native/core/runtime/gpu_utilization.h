// GPU utilisation from NVML (the NVIDIA driver's management library), for the
// aic_gpu_utilization_percent metric of an engine running on CUDA. NVML ships with the driver, not
// with CUDA or ONNX Runtime, so it is loaded at run time: where it is absent (every CPU machine)
// the reading is simply unavailable.
#pragma once

namespace aic::runtime {

// Percent of the last sample period during which a kernel ran on device `index` (NVML's
// "gpu" utilisation), or -1 when NVML or the device is not there. NVML numbers devices by PCI
// bus order; CUDA does too when CUDA_DEVICE_ORDER=PCI_BUS_ID (its default is fastest first).
int gpuUtilizationPercent(int index);

}  // namespace aic::runtime
