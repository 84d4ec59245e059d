{ engine_echo.pas - an event-driven libsock server with several long-lived clients, in one
  Free Pascal / Delphi program and one thread.

  The server (TLsServer) takes any number of clients; nothing calls back into Pascal: the
  program pulls events (Connected, Message, Disconnected) with NextEvent, which suits a main
  loop, a TTimer or a worker thread alike. Each TLsClient reconnects by itself if the server
  goes away, and both ends run a heartbeat, so a silent dead peer is noticed within a second.
  The server answers every message in upper case; the clients print the answers; then the
  server shuts down gracefully and LsShutdownEngine stops the engine's threads. Exits by itself.

  fpc -Mdelphi -Fu../ -Fl<dir of libsock.so> engine_echo.pas && LD_LIBRARY_PATH=<dir> ./engine_echo }
program engine_echo;

{$IFDEF FPC}{$MODE DELPHI}{$ENDIF}
{$IFDEF MSWINDOWS}{$APPTYPE CONSOLE}{$ENDIF}

uses
  SysUtils, libsock;

const
  NClients = 3;
  NMessages = 2;

var
  Config: TLsEngineConfig;
  Server: TLsServer;
  Clients: array[0..NClients - 1] of TLsClient;
  Ev: TLsEvent;
  I, Answers, Rounds: Int32;
begin
  Config := TLsEngineConfig.Create;
  Server := nil;
  FillChar(Clients, SizeOf(Clients), 0);
  try
    Config.SetFramingLength(4);              { the default: a 4-byte big-endian length prefix }
    Config.SetHeartbeat(250, 3);             { ping after 250 ms of silence, dead after 3 misses }
    Config.SetReconnect(True, 100, 2000);    { clients: retry after 100 ms .. 2 s, with jitter }
    Server := TLsServer.Listen('127.0.0.1:0', Config);
    WriteLn('server on ', Server.LocalAddress);
    for I := 0 to NClients - 1 do
    begin
      Clients[I] := TLsClient.Connect(Server.LocalAddress, Config);
      { Sends are queued: they go out once the connection is up, in order. }
      Clients[I].Send(UTF8String(Format('hello from client %d', [I])));
      Clients[I].Send(UTF8String('sticky packets are gone'));
    end;
    Answers := 0;
    Rounds := 0;
    while (Answers < NClients * NMessages) and (Rounds < 200) do
    begin
      Inc(Rounds);
      { The server: echo each message in upper case to the client that sent it. }
      while Server.NextEvent(10, Ev) do
        case Ev.Kind of
          LS_EVENT_CONNECTED:
            WriteLn('server: client ', Ev.Client, ' connected from ', Ev.Text);
          LS_EVENT_MESSAGE:
            Server.Send(Ev.Client, UTF8String(UpperCase(string(LsBytesToStr(Ev.Data)))));
          LS_EVENT_DISCONNECTED:
            WriteLn('server: client ', Ev.Client, ' left: ', LsReasonName(Ev.Reason));
        end;
      { The clients: print what comes back (poll: do not wait). }
      for I := 0 to NClients - 1 do
        while Clients[I].NextEvent(LS_TIMEOUT_POLL, Ev) do
          if Ev.Kind = LS_EVENT_MESSAGE then
          begin
            WriteLn('client ', I, ' got ', string(LsBytesToStr(Ev.Data)));
            Inc(Answers);
          end;
    end;
    WriteLn('server stats: ', Server.Stats.MessagesIn, ' messages in, ',
      Server.Stats.MessagesOut, ' frames out');
    { Graceful stop: queued messages are delivered, clients see the server leave. }
    for I := 0 to NClients - 1 do
      Clients[I].Close(1000);
    Server.Shutdown(1000);
    while Server.NextEvent(LS_TIMEOUT_POLL, Ev) and (Ev.Kind <> LS_EVENT_CLOSED) do
      if Ev.Kind = LS_EVENT_DISCONNECTED then
        WriteLn('server: client ', Ev.Client, ' left: ', LsReasonName(Ev.Reason));
  finally
    for I := 0 to NClients - 1 do
      Clients[I].Free;
    Server.Free;
    Config.Free;
    LsShutdownEngine;                        { stop the engine's threads before the program ends }
  end;
  if Answers = NClients * NMessages then
    WriteLn('engine_echo: ok')
  else
    WriteLn('engine_echo: only ', Answers, ' answers');
end.
