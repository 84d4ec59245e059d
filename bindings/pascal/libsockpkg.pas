{ The main unit of the Lazarus package libsockpkg.lpk, in the form Lazarus writes it (the IDE and
  lazbuild rewrite this file when they compile the package). It only makes the package's unit,
  libsock, part of the build. }

unit libsockpkg;

{$warn 5023 off : no warning about unused units}
interface

uses
  libsock;

implementation

end.
