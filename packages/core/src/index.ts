/**
 * @brick/core: brick's programs over abstract services, pure (no I/O of its own).
 * Modules under `internal/` are private and not exported here.
 */

// Generic: block devices, SCSI, multipath, locks (any transport)
export * as BlockDevice from "./BlockDevice.ts"
export * as BrickError from "./BrickError.ts"
export * as DevicePath from "./DevicePath.ts"
export * as Hctl from "./Hctl.ts"
export * as HostPath from "./HostPath.ts"
export * as InvalidInput from "./InvalidInput.ts"
export * as Lock from "./Lock.ts"
export * as Lun from "./Lun.ts"
export * as Multipath from "./Multipath.ts"
export * as Network from "./Network.ts"
export * as Sysfs from "./Sysfs.ts"
export * as Wwn from "./Wwn.ts"

// iSCSI: its inputs, open-iscsi's service, the plan and the programs
export * as ByPath from "./iscsi/ByPath.ts"
export * as ConnectionInfo from "./iscsi/ConnectionInfo.ts"
export * as ConnectorOptions from "./iscsi/ConnectorOptions.ts"
export * as ConnectorProperties from "./iscsi/ConnectorProperties.ts"
export { getConnectorProperties } from "./iscsi/ConnectorProperties.ts"
export * as ConnectPlan from "./iscsi/ConnectPlan.ts"
export * as ConnectVolume from "./iscsi/ConnectVolume.ts"
export { connectVolume } from "./iscsi/ConnectVolume.ts"
export * as DeviceInfo from "./iscsi/DeviceInfo.ts"
export * as DisconnectVolume from "./iscsi/DisconnectVolume.ts"
export { disconnectVolume } from "./iscsi/DisconnectVolume.ts"
export * as ExtendVolume from "./iscsi/ExtendVolume.ts"
export { extendVolume } from "./iscsi/ExtendVolume.ts"
export * as IfaceChoice from "./iscsi/IfaceChoice.ts"
export * as IfaceFacts from "./iscsi/IfaceFacts.ts"
export * as IfaceName from "./iscsi/IfaceName.ts"
export * as Iqn from "./iscsi/Iqn.ts"
export * as Iscsiadm from "./iscsi/Iscsiadm.ts"
export * as IscsiHostPort from "./iscsi/IscsiHostPort.ts"
export * as Portal from "./iscsi/Portal.ts"
export * as TargetPath from "./iscsi/TargetPath.ts"
export * as Transport from "./iscsi/Transport.ts"
export * as VolumePaths from "./iscsi/VolumePaths.ts"
export { getVolumePaths } from "./iscsi/VolumePaths.ts"
